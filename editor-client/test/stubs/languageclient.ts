/**
 * A stand-in for `vscode-languageclient/node` (vitest.config.mts aliases it here): records the
 * clients the extension creates and answers their requests from `server.answer`.
 */

export enum State {
  Stopped = 1,
  Running = 2,
  Starting = 3,
}

export enum CloseAction {
  DoNotRestart = 1,
  Restart = 2,
}

export enum ErrorAction {
  Continue = 1,
  Shutdown = 2,
}

export enum RevealOutputChannelOn {
  Never = 4,
}

export class NotificationType<P> {
  declare readonly params?: P;
  constructor(readonly method: string) {}
}

export const ExecuteCommandRequest = { type: { method: 'workspace/executeCommand' } };
export const DidChangeConfigurationNotification = { type: { method: 'workspace/didChangeConfiguration' } };

export interface ClientOptions {
  initializationOptions: unknown;
  errorHandler: { closed: () => unknown; error: () => unknown };
  middleware: {
    provideInlineCompletionItems: (document: unknown, position: unknown, context: unknown, token: unknown,
      next: (...args: unknown[]) => unknown) => unknown;
    executeCommand: (command: string, args: unknown[], next: (command: string, args: unknown[]) => unknown) => unknown;
  };
}

export const server = {
  clients: [] as LanguageClient[],
  /** Answer to `workspace/executeCommand` by command name. */
  answer: {} as Record<string, (args: unknown[]) => unknown>,
  failStart: false,
  reset(): void {
    this.clients = [];
    this.answer = {};
    this.failStart = false;
  },
};

export class LanguageClient {
  state = State.Stopped;
  disposed = false;
  notifications: Array<{ method: string; params: unknown }> = [];
  requests: Array<{ method: string; params: unknown }> = [];
  tokens: Array<{ isCancellationRequested: boolean } | undefined> = [];

  constructor(
    readonly id: string,
    readonly name: string,
    readonly serverOptions: { command: string; args: string[]; transport?: unknown; options?: { cwd?: string } },
    readonly clientOptions: ClientOptions,
  ) {
    server.clients.push(this);
  }

  start(): Promise<void> {
    if (server.failStart) {
      this.state = State.Stopped;
      return Promise.reject(new Error('spawn failed'));
    }
    this.state = State.Running;
    return Promise.resolve();
  }

  sendRequest(type: { method: string }, params: { command: string; arguments: unknown[] }, token?: { isCancellationRequested: boolean }): Promise<unknown> {
    this.requests.push({ method: type.method, params });
    this.tokens.push(token);
    const answer = server.answer[params.command];
    return answer ? Promise.resolve(answer(params.arguments)) : Promise.reject(new Error(`unhandled ${params.command}`));
  }

  sendNotification(type: { method: string }, params: unknown): Promise<void> {
    this.notifications.push({ method: type.method, params });
    return Promise.resolve();
  }

  dispose(): Promise<void> {
    this.state = State.Stopped;
    this.disposed = true;
    return Promise.resolve();
  }
}
