/**
 * Connecting to a shared server (`housecoder serve --tcp`) instead of starting one per window: the address
 * setting and the user's token, which the server asks for in `initialize` (server/token.py).
 *
 * Pure: no `vscode` or `net` import, so it is unit-tested without an editor.
 */

export interface TcpAddress {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port` or a bare port (on 127.0.0.1); throws with a one-line message otherwise. */
export function parseAddress(text: string): TcpAddress {
  const value = text.trim();
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`housecoder.serverAddress "${value}": give host:port, e.g. 127.0.0.1:2087`);
  }
  return { host: match[1] || match[2] || '127.0.0.1', port };
}

export interface TokenPlace {
  /** The `housecoder.tokenFile` setting; empty: where `housecoder token` writes it. */
  tokenFile: string;
  home: string;
  /** $XDG_CONFIG_HOME, as the server reads it (housecoder.config.config_home). */
  xdgConfigHome: string | undefined;
}

/** The token file the server reads: `$XDG_CONFIG_HOME/housecoder/server-token` (or `~/.config/...`). */
export function tokenPath(place: TokenPlace): string {
  const expand = (path: string): string => (path === '~' || path.startsWith('~/') ? place.home + path.slice(1) : path);
  if (place.tokenFile) {
    return expand(place.tokenFile);
  }
  const base = place.xdgConfigHome && place.xdgConfigHome.startsWith('/') ? place.xdgConfigHome : `${place.home}/.config`;
  return `${base}/housecoder/server-token`;
}

/** The token in a token file's text; throws with a one-line message when there is none. */
export function tokenOf(text: string | undefined, path: string): string {
  const token = text?.split(/\r?\n/, 1)[0]?.trim() ?? '';
  if (!token) {
    throw new Error(`no server token in ${path} (\`housecoder token\` makes it)`);
  }
  return token;
}
