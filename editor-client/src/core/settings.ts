/**
 * The extension's settings (the `housecoder.*` keys of VS Code's configuration) and what they mean to
 * the server: the sections of `.housecoder.toml` that `housecoder serve` accepts in
 * `initializationOptions` and `workspace/didChangeConfiguration` (server/app.py, housecoder/config.py).
 *
 * Pure: no `vscode` import, so the mapping is unit-tested without an editor.
 */

/** Section names of housecoder's `Settings` (housecoder/config.py); the server rejects any other. */
export const SERVER_SECTIONS = ['models', 'inference', 'completion', 'context', 'index', 'server', 'train', 'feedback'] as const;

/** Sections the server knew by another name (housecoder/config.py `RENAMED`): old name -> new name. */
export const RENAMED_SECTIONS: Readonly<Record<string, string>> = { telemetry: 'feedback' };

export type ServerSections = Record<string, Record<string, unknown>>;

/** The extension's settings as read from VS Code, already typed and defaulted. */
export interface ExtensionSettings {
  /** Python interpreter with housecoder installed: runs `<python> -m housecoder serve`. Empty: use `executable`. */
  pythonPath: string;
  /** The `housecoder` executable, a name looked up on PATH or a path. */
  executable: string;
  /** `housecoder serve --log-file`; empty: the server logs to stderr, which lands in the output channel. */
  logFile: string;
  /** `housecoder -v`: debug logging. */
  verbose: boolean;
  /** `models.code_model`: built-in name, Hugging Face id, model directory or `.gguf`. Empty: the project's or the default. */
  model: string;
  /** `models.adapter`: LoRA adapter directory. Empty: the project's or none. */
  adapter: string;
  /** `context.max_tokens`: repository context budget in model tokens. null: the project's, else 384 on a CPU, 1536 on a GPU or a remote engine. */
  contextBudget: number | null;
  /** `completion.max_new_tokens`. null: the project's or 64. */
  maxNewTokens: number | null;
  /** Inline completions on at all. */
  enable: boolean;
  /** Per-language switch: language id -> on/off; `*` is the fallback. */
  languages: Record<string, boolean>;
  /** Milliseconds to wait after the last keystroke before asking the server. */
  debounceMs: number;
  /** Any other sections of `.housecoder.toml`, sent as they are (the dedicated settings above win). */
  serverSettings: ServerSections;
  /** `host:port` of a running `housecoder serve --tcp` to connect to; empty: start a server for this window. */
  serverAddress: string;
  /** That server's token file; empty: where `housecoder token` writes it. */
  tokenFile: string;
}

export const DEFAULT_SETTINGS: ExtensionSettings = {
  pythonPath: '',
  executable: 'housecoder',
  logFile: '',
  verbose: false,
  model: '',
  adapter: '',
  contextBudget: null,
  maxNewTokens: null,
  enable: true,
  languages: { '*': true, plaintext: false, markdown: false, scminput: false },
  debounceMs: 150,
  serverSettings: {},
  serverAddress: '',
  tokenFile: '',
};

/** Settings whose change needs a new server process (the command line changes). */
export const LAUNCH_KEYS = ['pythonPath', 'executable', 'logFile', 'verbose', 'serverAddress', 'tokenFile'] as const;

/** A setting getter, e.g. `(key) => vscode.workspace.getConfiguration('housecoder').get(key)`. */
export type SettingGetter = (key: keyof ExtensionSettings) => unknown;

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value.trim() : fallback;
}

function count(value: unknown, min: number): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= min ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Read and type every setting; wrong types fall back to the defaults instead of reaching the server. */
export function readSettings(get: SettingGetter): ExtensionSettings {
  const d = DEFAULT_SETTINGS;
  const languages = get('languages');
  const extra = get('serverSettings');
  const debounce = count(get('debounceMs'), 0);
  return {
    pythonPath: text(get('pythonPath'), d.pythonPath),
    executable: text(get('executable'), d.executable) || d.executable,
    logFile: text(get('logFile'), d.logFile),
    verbose: typeof get('verbose') === 'boolean' ? (get('verbose') as boolean) : d.verbose,
    model: text(get('model'), d.model),
    adapter: text(get('adapter'), d.adapter),
    contextBudget: count(get('contextBudget'), 0),
    maxNewTokens: count(get('maxNewTokens'), 1),
    enable: typeof get('enable') === 'boolean' ? (get('enable') as boolean) : d.enable,
    languages: isRecord(languages)
      ? Object.fromEntries(Object.entries(languages).filter((entry): entry is [string, boolean] => typeof entry[1] === 'boolean'))
      : { ...d.languages },
    debounceMs: debounce ?? d.debounceMs,
    serverSettings: isRecord(extra)
      ? Object.fromEntries(Object.entries(extra).filter((entry): entry is [string, Record<string, unknown>] => isRecord(entry[1])))
      : {},
    serverAddress: text(get('serverAddress'), d.serverAddress),
    tokenFile: text(get('tokenFile'), d.tokenFile),
  };
}

/**
 * The sections the server receives. Unset dedicated settings are sent as null: the server drops
 * null keys (housecoder.config.load_settings), so the project's `.housecoder.toml` or the default applies.
 * Sections the server does not know are left out (it would refuse the whole change); see `unknownSections`.
 */
export function serverSections(settings: ExtensionSettings): ServerSections {
  const sections: ServerSections = {};
  for (const [name, keys] of Object.entries(settings.serverSettings)) {
    if ((SERVER_SECTIONS as readonly string[]).includes(name)) {
      sections[name] = { ...keys };
    }
  }
  const put = (section: string, key: string, value: unknown): void => {
    sections[section] = { ...(sections[section] ?? {}), [key]: value };
  };
  put('models', 'code_model', settings.model || sections.models?.code_model || null);
  put('models', 'adapter', settings.adapter || sections.models?.adapter || null);
  put('context', 'max_tokens', settings.contextBudget ?? sections.context?.max_tokens ?? null);
  put('completion', 'max_new_tokens', settings.maxNewTokens ?? sections.completion?.max_new_tokens ?? null);
  return sections;
}

/** Sections of `serverSettings` the server does not know, for a warning (they are never sent). */
export function unknownSections(settings: ExtensionSettings): string[] {
  return Object.keys(settings.serverSettings).filter((name) => !(SERVER_SECTIONS as readonly string[]).includes(name));
}

/** The warning for a section of `serverSettings` the server does not know: a renamed one names its new name. */
export function unknownSectionWarning(name: string): string {
  const now = Object.hasOwn(RENAMED_SECTIONS, name) ? RENAMED_SECTIONS[name] : undefined;
  return now === undefined
    ? `housecoder.serverSettings: "${name}" is not a housecoder settings section; not sent`
    : `housecoder.serverSettings: "${name}" is now "${now}"; not sent`;
}

/**
 * What to send in `workspace/didChangeConfiguration`. The server lays a change over the options it
 * already has (server/app.py `merge_sections`), so a key that disappeared must be sent as null to be unset.
 */
export function configurationChange(previous: ServerSections, next: ServerSections): ServerSections {
  const change: ServerSections = {};
  for (const [name, keys] of Object.entries(next)) {
    change[name] = { ...keys };
  }
  for (const [name, keys] of Object.entries(previous)) {
    for (const key of Object.keys(keys)) {
      if (!(name in change) || !(key in change[name])) {
        change[name] = { ...(change[name] ?? {}), [key]: null };
      }
    }
  }
  return change;
}

/** Whether inline completions are on for a document's language. */
export function isLanguageEnabled(settings: ExtensionSettings, languageId: string): boolean {
  if (!settings.enable) {
    return false;
  }
  return settings.languages[languageId] ?? settings.languages['*'] ?? true;
}

/** Whether the change between two settings needs a new server process. */
export function needsRestart(before: ExtensionSettings, after: ExtensionSettings): boolean {
  return LAUNCH_KEYS.some((key) => before[key] !== after[key]);
}
