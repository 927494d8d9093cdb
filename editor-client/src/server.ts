/**
 * The language client around `housecoder serve`: starts the process over stdio, sends the settings
 * (initializationOptions, then workspace/didChangeConfiguration), debounces inline completions,
 * restarts the process with a backoff when it dies and shows an error when it keeps dying.
 */

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';

import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  NotificationType,
  RevealOutputChannelOn,
  State,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';

import { acceptedId, PartialAccepts, type TextChange } from './core/accepts';
import { RestartPolicy } from './core/backoff';
import type { CursorEvent } from './core/cursor';
import { InlineRequests } from './core/inline';
import { feedbackToday, modelState, trainingOf } from './core/report';
import { LaunchError, serveCommand, type CommandLine, type Environment } from './core/serverCommand';
import {
  configurationChange,
  isLanguageEnabled,
  needsRestart,
  readSettings,
  serverSections,
  unknownSectionWarning,
  unknownSections,
  type ExtensionSettings,
  type ServerSections,
} from './core/settings';
import { INITIAL_STATUS, reduce, view, type StatusEvent, type StatusState } from './core/status';
import { parseAddress, tokenOf, tokenPath, type TcpAddress } from './core/tcp';

interface CursorParams {
  textDocument: { uri: string };
  position: { line: number; character: number };
}

const CURSOR_NOTIFICATION = new NotificationType<CursorParams>('housecoder/cursor');

/** How often and how long the model state is polled after a start (loading takes seconds to minutes). */
const MODEL_POLL_MS = 1000;
const MODEL_POLL_LIMIT_MS = 15 * 60_000;
/**
 * Each poll gives up after this long and the next one asks again, so one lost or late answer never
 * stalls the status (servers before the llama.cpp loading fix lost their output while loading).
 */
const STATUS_TIMEOUT_MS = 3000;
/** After a suggestion was shown or accepted, the status bar's acceptance figures are asked for again this much later. */
const FEEDBACK_REFRESH_MS = 2000;
/** While a background training run is live, the status bar asks for its progress this often. */
const TRAINING_POLL_MS = 30_000;
/** After *Train in the Background*, the first look at the new run. */
const TRAINING_FIRST_MS = 3000;

export function currentSettings(): ExtensionSettings {
  const config = vscode.workspace.getConfiguration('housecoder');
  return readSettings((key) => config.get(key));
}

export function environment(): Environment {
  return {
    path: process.env.PATH ?? process.env.Path,
    pathext: process.env.PATHEXT,
    platform: process.platform,
    home: os.homedir(),
    workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    isExecutable: (file) => {
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
      } catch {
        return false;
      }
    },
  };
}

/** The user's server token, read at each connection so that `housecoder token --rotate` takes effect. */
function readToken(tokenFile: string): string {
  const path = tokenPath({ tokenFile, home: os.homedir(), xdgConfigHome: process.env.XDG_CONFIG_HOME });
  let text: string | undefined;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch {
    text = undefined;
  }
  return tokenOf(text, path);
}

/** A running `housecoder serve --tcp` as the client's transport (vscode-languageclient's StreamInfo). */
function connectTo(address: TcpAddress): ServerOptions {
  return () =>
    new Promise((resolve, reject) => {
      const socket = net.connect(address.port, address.host);
      socket.once('connect', () => resolve({ reader: socket, writer: socket }));
      socket.once('error', (err) => reject(new Error(`cannot reach ${address.host}:${address.port}: ${err.message}`)));
    });
}

export class HousecoderServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private generation = 0;
  private startedAt = 0;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly policy = new RestartPolicy();
  private status: StatusState = INITIAL_STATUS;
  private sent: ServerSections = {};
  private settings: ExtensionSettings = currentSettings();
  private readonly inline: InlineRequests<vscode.CancellationToken>;
  private readonly partial = new PartialAccepts();
  private feedbackTimer: ReturnType<typeof setTimeout> | undefined;
  private trainingTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly statusItem: vscode.StatusBarItem,
  ) {
    this.inline = new InlineRequests({
      newSource: () => new vscode.CancellationTokenSource(),
      debounceMs: () => this.settings.debounceMs,
      onStart: () => this.apply({ type: 'generateStart' }),
      onEnd: () => this.apply({ type: 'generateEnd' }),
    });
  }

  // -- lifecycle -------------------------------------------------------------------------

  /** Start (or restart, by the user) the server with the current settings; earlier failures are forgotten. */
  async restart(): Promise<void> {
    this.policy.reset();
    await this.stop();
    await this.start();
  }

  async start(): Promise<void> {
    if (this.disposed) {
      return;
    }
    this.clearTimers();
    const generation = ++this.generation;
    this.settings = currentSettings();
    if (!this.settings.enable) {
      this.apply({ type: 'off' }); // off is off: no server process, no connection, nothing sent
      return;
    }
    let line: CommandLine | undefined;
    let tcp: { address: TcpAddress; token: string } | undefined;
    try {
      if (this.settings.serverAddress) {
        tcp = { address: parseAddress(this.settings.serverAddress), token: readToken(this.settings.tokenFile) };
      } else {
        line = serveCommand(this.settings, environment());
      }
    } catch (err) {
      const message = err instanceof LaunchError || err instanceof Error ? err.message : String(err);
      this.apply({ type: 'failed', message });
      this.output.error(message);
      void vscode.window.showErrorMessage(`housecoder: ${message}`, 'Open Settings').then((choice) => {
        if (choice) {
          void vscode.commands.executeCommand('workbench.action.openSettings', 'housecoder');
        }
      });
      return;
    }
    for (const name of unknownSections(this.settings)) {
      this.output.warn(unknownSectionWarning(name));
    }
    this.apply({ type: 'starting' });
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    // No `transport`: with TransportKind.stdio the client would append `--stdio`, which serve refuses.
    const serverOptions: ServerOptions = tcp
      ? connectTo(tcp.address)
      : {
          command: line!.command,
          args: line!.args,
          options: { cwd: folder, env: { ...process.env, LANCEDB_LOG: process.env.LANCEDB_LOG ?? 'error' } },
        };
    const gone = tcp ? 'the connection to the server closed' : 'the server process exited';
    this.sent = serverSections(this.settings);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      initializationOptions: { housecoder: this.sent, ...(tcp ? { token: tcp.token } : {}) },
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationFailedHandler: () => false,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => {
          // The extension restarts the process itself (with a backoff), so the client must not.
          const message = this.onServerGone(generation, gone);
          return { action: CloseAction.DoNotRestart, handled: true, message };
        },
      },
      middleware: {
        provideInlineCompletionItems: (document, position, context, token, next) => {
          if (!isLanguageEnabled(this.settings, document.languageId)) {
            return undefined;
          }
          const invoked = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
          return this.inline.run(token, (linked) => next(document, position, context, linked), invoked).then((result) => {
            this.remember(document.uri.toString(), result);
            return result;
          });
        },
        // A whole accept: VS Code runs the item's `housecoder.accepted` command, which the client forwards.
        executeCommand: (command, args: unknown[], next): unknown => {
          const answer: unknown = next(command, args);
          if (command === 'housecoder.accepted') {
            this.partial.clear();
            this.refreshFeedbackSoon();
          }
          return answer;
        },
      },
    };
    this.output.info(
      tcp
        ? `connecting to housecoder serve --tcp at ${tcp.address.host}:${tcp.address.port}`
        : `starting ${line!.command} ${line!.args.join(' ')}${folder ? ` in ${folder}` : ''}`,
    );
    const client = new LanguageClient('housecoder', 'housecoder', serverOptions, clientOptions);
    this.client = client;
    this.startedAt = Date.now();
    try {
      await client.start();
    } catch (err) {
      this.output.error(`the server did not start: ${err instanceof Error ? err.message : String(err)}`);
      this.onServerGone(generation, 'the server did not start');
      return;
    }
    if (generation !== this.generation) {
      return;
    }
    this.apply({ type: 'running' });
    this.pollModel(generation, Date.now());
  }

  // -- accepts ---------------------------------------------------------------------------

  /** The first item of an inline answer is what VS Code shows: track it for partial accepts. */
  private remember(uri: string, result: vscode.InlineCompletionItem[] | vscode.InlineCompletionList | undefined | null): void {
    const items = Array.isArray(result) ? result : result?.items ?? [];
    const item = items[0];
    const id = acceptedId(item?.command);
    if (item === undefined || typeof item.insertText !== 'string' || !item.insertText || id === undefined || item.range === undefined) {
      return; // nothing shown (VS Code may keep showing what it had), or nothing the server could count
    }
    const start = item.range.start;
    this.partial.shown({ uri, id, start: { line: start.line, character: start.character }, text: item.insertText });
    this.refreshFeedbackSoon();
  }

  /** A document changed: a partial accept (next word, next line) of the suggestion shown is sent as `housecoder.accepted [id, chars]`. */
  documentChanged(event: vscode.TextDocumentChangeEvent): void {
    if (event.contentChanges.length === 0) {
      return;
    }
    const changes: TextChange[] = event.contentChanges.map((change) => ({
      start: { line: change.range.start.line, character: change.range.start.character },
      end: { line: change.range.end.line, character: change.range.end.character },
      text: change.text,
    }));
    const accept = this.partial.changed(event.document.uri.toString(), changes);
    if (accept === undefined || !this.running) {
      return;
    }
    this.command('housecoder.accepted', accept.id, accept.acceptedChars).then(
      () => this.refreshFeedbackSoon(),
      (err: unknown) => this.output.debug(`housecoder.accepted: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** Ask for today's acceptance figures a little later (once for a burst of suggestions and accepts). */
  private refreshFeedbackSoon(): void {
    if (this.feedbackTimer !== undefined) {
      return;
    }
    this.feedbackTimer = this.statusIn(FEEDBACK_REFRESH_MS, () => { this.feedbackTimer = undefined; }, (status, generation) => {
      this.apply({ type: 'feedback', feedback: feedbackToday(status) });
      this.applyTraining(status, generation);
    });
  }

  /**
   * `housecoder.status` asked in `delayMs` (`fired` is called then) and handed to `use`, unless the server was
   * restarted or stopped meanwhile.
   */
  private statusIn(
    delayMs: number, fired: () => void, use: (status: unknown, generation: number) => void,
  ): ReturnType<typeof setTimeout> {
    const generation = this.generation;
    return setTimeout(() => {
      fired();
      if (generation !== this.generation || !this.running) {
        return;
      }
      this.commandWithin(STATUS_TIMEOUT_MS, 'housecoder.status').then(
        (status) => {
          if (generation === this.generation) {
            use(status, generation);
          }
        },
        (err: unknown) => this.output.debug(`status: ${err instanceof Error ? err.message : String(err)}`),
      );
    }, delayMs);
  }

  /** The process died or never came up: schedule a restart, or give up with a visible error. Returns a log line. */
  private onServerGone(generation: number, reason: string): string | undefined {
    if (generation !== this.generation || this.disposed) {
      return undefined; // already handled, or a stop we asked for
    }
    this.generation += 1; // the start() still awaiting for this process must not act on it again
    this.inline.cancelAll();
    this.partial.clear();
    const old = this.client;
    this.client = undefined;
    // Disposed after the language client has finished handling the close that called us.
    setTimeout(() => void old?.dispose().catch(() => undefined), 0);
    const decision = this.policy.onExit(this.startedAt, Date.now());
    if (decision.action === 'restart') {
      const line = `${reason}; restart ${decision.failures} in ${decision.delayMs} ms`;
      this.output.warn(line);
      this.apply({ type: 'exited', restartInMs: decision.delayMs });
      this.restartTimer = setTimeout(() => void this.start(), decision.delayMs);
      return line;
    }
    const message = `${reason} ${decision.failures} times in a row; not restarting it`;
    this.output.error(message);
    this.apply({ type: 'failed', message });
    void vscode.window.showErrorMessage(`housecoder: ${message}. See the log for the cause.`, 'Show Log', 'Restart').then((choice) => {
      if (choice === 'Show Log') {
        this.output.show();
      } else if (choice === 'Restart') {
        void this.restart();
      }
    });
    return message;
  }

  async stop(): Promise<void> {
    this.clearTimers();
    this.generation += 1;
    this.inline.cancelAll();
    this.partial.clear();
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      try {
        await client.dispose(5000);
      } catch (err) {
        this.output.warn(`stopping the server: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.apply({ type: 'stopped' });
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.disposed = true;
  }

  private clearTimers(): void {
    if (this.restartTimer !== undefined) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    if (this.pollTimer !== undefined) {
      clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
    }
    if (this.feedbackTimer !== undefined) {
      clearTimeout(this.feedbackTimer);
      this.feedbackTimer = undefined;
    }
    if (this.trainingTimer !== undefined) {
      clearTimeout(this.trainingTimer);
      this.trainingTimer = undefined;
    }
  }

  /** Show the background training a status answer reports; while a run is live, ask again in a while. */
  private applyTraining(status: unknown, generation: number): void {
    const training = trainingOf(status);
    this.apply({ type: 'training', training });
    if (training?.active !== true || this.trainingTimer !== undefined || generation !== this.generation) {
      return;
    }
    this.trainingTimer = this.statusIn(
      TRAINING_POLL_MS, () => { this.trainingTimer = undefined; }, (next, current) => this.applyTraining(next, current),
    );
  }

  /** Start background training of the workspace now (`housecoder.trainBackground`); returns what the server did. */
  async trainInBackground(): Promise<unknown> {
    const result = await this.command('housecoder.trainBackground');
    // The new process takes a moment to write its first record: ask once it has, then while it runs.
    if (this.trainingTimer === undefined) {
      this.trainingTimer = this.statusIn(
        TRAINING_FIRST_MS, () => { this.trainingTimer = undefined; }, (status, generation) => this.applyTraining(status, generation),
      );
    }
    return result;
  }

  /** Ask `housecoder.status` until the model is loaded (or failed), for the status bar. */
  private pollModel(generation: number, since: number): void {
    const poll = async (): Promise<void> => {
      if (generation !== this.generation) {
        return;
      }
      let state;
      let feedback;
      let status: unknown;
      try {
        status = await this.commandWithin(STATUS_TIMEOUT_MS, 'housecoder.status');
        state = modelState(status);
        feedback = feedbackToday(status);
      } catch (err) {
        this.output.debug(`status: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (generation !== this.generation) {
        return;
      }
      if (state !== undefined) {
        this.apply({ type: 'feedback', feedback });
        this.apply({ type: 'model', ...state });
        this.applyTraining(status, generation);
      }
      if ((state === undefined || state.state === 'loading') && Date.now() - since < MODEL_POLL_LIMIT_MS) {
        this.pollTimer = setTimeout(() => void poll(), MODEL_POLL_MS);
      }
    };
    void poll();
  }

  // -- settings --------------------------------------------------------------------------

  /** A `housecoder.*` setting changed: restart for a new command line, otherwise send the new sections. */
  async settingsChanged(): Promise<void> {
    const before = this.settings;
    const after = currentSettings();
    this.settings = after;
    if (needsRestart(before, after) || before.enable !== after.enable) {
      await this.restart(); // turned off: stop() and start() leave no server; turned on: a fresh start
      return;
    }
    const next = serverSections(after);
    const change = configurationChange(this.sent, next);
    const client = this.client;
    if (client === undefined || client.state !== State.Running || JSON.stringify(next) === JSON.stringify(this.sent)) {
      this.refreshView();
      return;
    }
    for (const name of unknownSections(after)) {
      this.output.warn(unknownSectionWarning(name));
    }
    await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { housecoder: change } });
    this.sent = next;
    this.apply({ type: 'running' }); // a changed model reloads: poll until it is ready again
    this.pollModel(this.generation, Date.now());
  }

  // -- commands --------------------------------------------------------------------------

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Where the cursor settled (see core/cursor.ts): the server prefills that line's prompt while the user is idle. */
  notifyCursor(event: CursorEvent): boolean {
    const client = this.client;
    if (client === undefined || client.state !== State.Running) {
      return false;
    }
    const params = { textDocument: { uri: event.uri }, position: { line: event.line, character: event.character } };
    client.sendNotification(CURSOR_NOTIFICATION, params).catch((err: unknown) => {
      this.output.debug(`housecoder/cursor: ${err instanceof Error ? err.message : String(err)}`);
    });
    return true;
  }

  /** `workspace/executeCommand` on the server. */
  async command(name: string, ...args: unknown[]): Promise<unknown> {
    const client = this.client;
    if (client === undefined || client.state !== State.Running) {
      throw new Error('the housecoder server is not running');
    }
    return client.sendRequest(ExecuteCommandRequest.type, { command: name, arguments: args });
  }

  /** `command`, cancelled and rejected when no answer came within `ms`. */
  async commandWithin(ms: number, name: string, ...args: unknown[]): Promise<unknown> {
    const client = this.client;
    if (client === undefined || client.state !== State.Running) {
      throw new Error('the housecoder server is not running');
    }
    const source = new vscode.CancellationTokenSource();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        source.cancel();
        reject(new Error(`${name}: no answer within ${ms} ms`));
      }, ms);
    });
    try {
      return await Promise.race([client.sendRequest(ExecuteCommandRequest.type, { command: name, arguments: args }, source.token), timeout]);
    } finally {
      clearTimeout(timer);
      source.dispose();
    }
  }

  /** Run `housecoder.index` with the status bar showing "indexing" (the server reports `$/progress` itself). */
  async index(): Promise<unknown> {
    this.apply({ type: 'indexStart' });
    try {
      return await this.command('housecoder.index');
    } finally {
      this.apply({ type: 'indexEnd' });
    }
  }

  // -- status bar ------------------------------------------------------------------------

  private apply(event: StatusEvent): void {
    this.status = reduce(this.status, event);
    this.refreshView();
  }

  refreshView(): void {
    const language = vscode.window.activeTextEditor?.document.languageId;
    const shown = view(this.status, language === undefined || isLanguageEnabled(this.settings, language));
    this.statusItem.text = shown.text;
    this.statusItem.tooltip = `${shown.tooltip}\nClick for details.`;
    this.statusItem.backgroundColor =
      shown.severity === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : shown.severity === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.statusItem.show();
  }
}
