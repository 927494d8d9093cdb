/**
 * The part of the `vscode` API the extension uses, recorded instead of shown, for test/extension.test.ts
 * (vitest.config.mts aliases `vscode` here). `editor` holds what the extension did to the fake editor.
 */

type Listener<T> = (value: T) => unknown;

class Emitter<T> {
  private listeners = new Set<Listener<T>>();
  event = (listener: Listener<T>) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      void listener(value);
    }
  }
}

export interface Message {
  kind: 'info' | 'warning' | 'error';
  text: string;
  actions: string[];
}

export const editor = {
  config: {} as Record<string, unknown>,
  updates: [] as Array<{ key: string; value: unknown; target: ConfigurationTarget | undefined }>,
  folders: [] as Array<{ uri: { fsPath: string }; name: string; index: number }>,
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  executed: [] as Array<{ id: string; args: unknown[] }>,
  messages: [] as Message[],
  answers: [] as Array<string | undefined>,
  log: [] as string[],
  statusItems: [] as StatusBarItem[],
  tasks: [] as Task[],
  executions: [] as Array<{ task: Task }>,
  activeLanguage: undefined as string | undefined,
  configChanged: new Emitter<{ affectsConfiguration: (section: string) => boolean }>(),
  editorChanged: new Emitter<unknown>(),
  selectionChanged: new Emitter<{ textEditor: { document: { uri: { toString(): string } } }; selections: Array<{ active: { line: number; character: number } }> }>(),
  taskEnded: new Emitter<{ execution: unknown; exitCode: number | undefined }>(),
  documentChanged: new Emitter<{
    document: { uri: { toString(): string } };
    contentChanges: Array<{ range: { start: { line: number; character: number }; end: { line: number; character: number } }; text: string }>;
  }>(),
  reset(): void {
    this.config = {};
    this.updates = [];
    this.folders = [];
    this.commands.clear();
    this.executed = [];
    this.messages = [];
    this.answers = [];
    this.log = [];
    this.statusItems = [];
    this.tasks = [];
    this.executions = [];
    this.activeLanguage = undefined;
  },
};

function message(kind: Message['kind']) {
  return (text: string, ...actions: unknown[]): Promise<string | undefined> => {
    editor.messages.push({ kind, text, actions: actions.filter((a): a is string => typeof a === 'string') });
    return Promise.resolve(editor.answers.shift());
  };
}

export class StatusBarItem {
  text = '';
  tooltip: string | undefined;
  name: string | undefined;
  command: string | undefined;
  backgroundColor: ThemeColor | undefined;
  visible = false;
  show(): void {
    this.visible = true;
  }
  dispose(): void {
    this.visible = false;
  }
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum InlineCompletionTriggerKind {
  Invoke = 0,
  Automatic = 1,
}

export enum TaskRevealKind {
  Always = 1,
}

export enum TaskPanelKind {
  Dedicated = 2,
}

export class ProcessExecution {
  constructor(readonly process: string, readonly args: string[], readonly options?: { cwd?: string }) {}
}

export class Task {
  presentationOptions: unknown;
  constructor(
    readonly definition: unknown,
    readonly scope: unknown,
    readonly name: string,
    readonly source: string,
    readonly execution: ProcessExecution,
  ) {}
}

export class CancellationTokenSource {
  private readonly emitter = new Emitter<void>();
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: (listener: () => void) => this.emitter.event(listener),
  };
  cancel(): void {
    if (!this.token.isCancellationRequested) {
      this.token.isCancellationRequested = true;
      this.emitter.fire();
    }
  }
  dispose(): void {}
}

export const workspace = {
  getConfiguration: (section: string) => ({
    get: (key: string) => editor.config[`${section}.${key}`],
    /** As VS Code does: the value is stored, then every listener hears of the change. */
    update: (key: string, value: unknown, target?: ConfigurationTarget) => {
      editor.config[`${section}.${key}`] = value;
      editor.updates.push({ key: `${section}.${key}`, value, target });
      editor.configChanged.fire({ affectsConfiguration: (name: string) => name === section });
      return Promise.resolve();
    },
  }),
  get workspaceFolders() {
    return editor.folders;
  },
  onDidChangeConfiguration: editor.configChanged.event,
  onDidChangeTextDocument: editor.documentChanged.event,
  asRelativePath: (uri: { toString(): string }) => uri.toString(),
};

export const window = {
  createOutputChannel: () => ({
    info: (line: string) => editor.log.push(`info ${line}`),
    warn: (line: string) => editor.log.push(`warn ${line}`),
    error: (line: string) => editor.log.push(`error ${line}`),
    debug: (line: string) => editor.log.push(`debug ${line}`),
    appendLine: (line: string) => editor.log.push(line),
    show: () => editor.log.push('(shown)'),
    dispose: () => undefined,
  }),
  createStatusBarItem: () => {
    const item = new StatusBarItem();
    editor.statusItems.push(item);
    return item;
  },
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  showQuickPick: <T>(items: T[]) => {
    const answer = editor.answers.shift();
    return Promise.resolve(items.find((item) => (item as { label: string }).label === answer));
  },
  showOpenDialog: () => Promise.resolve(undefined),
  showWorkspaceFolderPick: () => Promise.resolve(editor.folders[0]),
  get activeTextEditor() {
    return editor.activeLanguage
      ? { document: { languageId: editor.activeLanguage, uri: { toString: () => `file:///work/shop/a.${editor.activeLanguage}` } } }
      : undefined;
  },
  onDidChangeActiveTextEditor: editor.editorChanged.event,
  onDidChangeTextEditorSelection: editor.selectionChanged.event,
};

export const commands = {
  registerCommand: (id: string, run: (...args: unknown[]) => unknown) => {
    editor.commands.set(id, run);
    return { dispose: () => editor.commands.delete(id) };
  },
  executeCommand: (id: string, ...args: unknown[]) => {
    editor.executed.push({ id, args });
    return Promise.resolve(editor.commands.get(id)?.(...args));
  },
};

export const tasks = {
  executeTask: (task: Task) => {
    const execution = { task };
    editor.tasks.push(task);
    editor.executions.push(execution);
    return Promise.resolve(execution);
  },
  onDidEndTaskProcess: editor.taskEnded.event,
};

export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}
