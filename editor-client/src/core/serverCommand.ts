/**
 * The command lines the extension runs: `housecoder serve` (the language server, over stdio) and
 * `housecoder train` (in a terminal), either as `<python> -m housecoder ...` with the configured
 * interpreter or as the `housecoder` executable found on PATH.
 *
 * Pure: the file system and the environment are passed in, so tests need neither.
 */

import * as path from 'node:path';

import type { ExtensionSettings } from './settings';

export interface CommandLine {
  command: string;
  args: string[];
}

export interface Environment {
  /** The PATH variable (or Windows' Path). */
  path: string | undefined;
  /** Windows' PATHEXT; executables elsewhere have no extension. */
  pathext?: string | undefined;
  platform: NodeJS.Platform;
  home: string;
  /** The first workspace folder, for `${workspaceFolder}` in paths. */
  workspaceFolder: string | undefined;
  /** Whether a file exists and can be executed. */
  isExecutable: (file: string) => boolean;
}

/** Raised when no server can be started; the message tells the user which setting to change. */
export class LaunchError extends Error {
  override name = 'LaunchError';
}

/** `~` and `${workspaceFolder}` / `${userHome}` in a configured path. */
export function expandPath(value: string, env: Environment): string {
  let out = value.replace(/\$\{userHome\}/g, env.home);
  if (out.includes('${workspaceFolder}')) {
    if (env.workspaceFolder === undefined) {
      throw new LaunchError(`${value}: \${workspaceFolder} needs an open folder`);
    }
    out = out.replace(/\$\{workspaceFolder\}/g, env.workspaceFolder);
  }
  if (out === '~' || out.startsWith('~/')) {
    out = env.home + out.slice(1);
  }
  return out;
}

function pathModule(env: Environment): typeof path.posix {
  return env.platform === 'win32' ? path.win32 : path.posix;
}

/** The executable a bare name resolves to on PATH (with PATHEXT on Windows), or undefined. */
export function findOnPath(name: string, env: Environment): string | undefined {
  const p = pathModule(env);
  const extensions = env.platform === 'win32' ? ['', ...(env.pathext ?? '.EXE;.CMD;.BAT').split(';').filter(Boolean)] : [''];
  for (const dir of (env.path ?? '').split(env.platform === 'win32' ? ';' : ':')) {
    if (!dir) {
      continue;
    }
    for (const ext of extensions) {
      const candidate = p.join(dir, name + ext);
      if (env.isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** `python -m housecoder` or the resolved `housecoder` executable, before the subcommand. */
export function launcher(settings: ExtensionSettings, env: Environment): CommandLine {
  const p = pathModule(env);
  if (settings.pythonPath) {
    const python = expandPath(settings.pythonPath, env);
    const looksLikePath = python.includes('/') || python.includes('\\');
    const resolved = looksLikePath ? python : findOnPath(python, env);
    if (resolved === undefined || !env.isExecutable(resolved)) {
      throw new LaunchError(`housecoder.pythonPath: ${python} is not an executable file`);
    }
    return { command: looksLikePath ? p.resolve(resolved) : resolved, args: ['-m', 'housecoder'] };
  }
  const executable = expandPath(settings.executable, env);
  if (executable.includes('/') || executable.includes('\\')) {
    if (!env.isExecutable(executable)) {
      throw new LaunchError(`housecoder.executable: ${executable} is not an executable file`);
    }
    return { command: p.resolve(executable), args: [] };
  }
  const found = findOnPath(executable, env);
  if (found === undefined) {
    throw new LaunchError(
      `${executable} is not on PATH: set housecoder.pythonPath to the Python of the environment housecoder ` +
        'is installed in (after `make demo` in its checkout: <checkout>/.venv/bin/python), or put its bin folder on PATH',
    );
  }
  return { command: found, args: [] };
}

/** Global options, placed before the subcommand (`housecoder -v serve`). */
function globalArgs(settings: ExtensionSettings): string[] {
  return settings.verbose ? ['-v'] : [];
}

/** The language server over stdio: `housecoder [-v] serve [--log-file FILE]`. */
export function serveCommand(settings: ExtensionSettings, env: Environment): CommandLine {
  const base = launcher(settings, env);
  const args = [...base.args, ...globalArgs(settings), 'serve'];
  if (settings.logFile) {
    args.push('--log-file', expandPath(settings.logFile, env));
  }
  return { command: base.command, args };
}

/** The fine-tune job for one folder: `housecoder [-v] -C FOLDER train`. */
export function trainCommand(settings: ExtensionSettings, env: Environment, folder: string): CommandLine {
  const base = launcher(settings, env);
  return { command: base.command, args: [...base.args, ...globalArgs(settings), '-C', folder, 'train'] };
}

/** A command line as one string for showing to the user (POSIX shell quoting). */
export function displayCommand(line: CommandLine): string {
  const quote = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
  return [line.command, ...line.args].map(quote).join(' ');
}
