/**
 * The extension's glue with the editor and the language client stubbed (test/stubs): commands, the
 * server command line and settings it starts with, inline completion gating, restarts with backoff.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import manifest from '../package.json';
import { activate, deactivate } from '../src/extension';
import { server, type LanguageClient } from './stubs/languageclient';
import { CancellationTokenSource, editor } from './stubs/vscode';

function context() {
  return { subscriptions: [] as Array<{ dispose(): unknown }> };
}

function statusText(): string {
  return editor.statusItems[0].text;
}

function lastClient(): LanguageClient {
  return server.clients[server.clients.length - 1];
}

async function start(config: Record<string, unknown> = {}, status?: (args: unknown[]) => unknown) {
  for (const [key, property] of Object.entries(manifest.contributes.configuration.properties)) {
    editor.config[key] = property.default;
  }
  Object.assign(editor.config, { 'housecoder.pythonPath': process.execPath }, config);
  editor.folders = [{ uri: { fsPath: '/work/shop' }, name: 'shop', index: 0 }];
  server.answer['housecoder.status'] = status ?? (() => ({ model: 'qwen2.5-coder-1.5b-instruct', model_state: 'ready', folders: [] }));
  activate(context() as never);
  await vi.advanceTimersByTimeAsync(0);
}

describe('extension', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    editor.reset();
    server.reset();
  });
  afterEach(async () => {
    await deactivate();
    vi.useRealTimers();
  });

  it('registers exactly the commands package.json declares', async () => {
    await start();
    expect([...editor.commands.keys()].sort()).toEqual(manifest.contributes.commands.map((c) => c.command).sort());
  });

  it('uses no command id of the server: the language client registers those itself and VS Code refuses duplicates', () => {
    const app = readFileSync(join(__dirname, '..', '..', 'server', 'app.py'), 'utf8');
    const serverCommands = [...(/^COMMANDS = \(([^)]*)\)$/m.exec(app)?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(serverCommands).toContain('housecoder.reloadAdapter');
    const ours = manifest.contributes.commands.map((c) => c.command);
    expect(ours.filter((id) => serverCommands.includes(id))).toEqual([]);
  });

  it('binds keys only to its own commands, with the Cmd variant on macOS', () => {
    const ours = manifest.contributes.commands.map((c) => c.command);
    for (const binding of manifest.contributes.keybindings) {
      expect(ours).toContain(binding.command);
      expect(binding.mac).toBe(binding.key.replace(/^ctrl\+/, 'cmd+'));
    }
  });

  it('starts python -m housecoder serve in the workspace folder with the mapped settings', async () => {
    await start({ 'housecoder.model': 'Qwen/Qwen2.5-Coder-7B', 'housecoder.contextBudget': 768, 'housecoder.verbose': true });
    const client = lastClient();
    expect(client.serverOptions.command).toBe(process.execPath);
    expect(client.serverOptions.args).toEqual(['-m', 'housecoder', '-v', 'serve']);
    expect(client.serverOptions.options?.cwd).toBe('/work/shop');
    expect(client.serverOptions).not.toHaveProperty('transport'); // the client would append --stdio
    expect(client.clientOptions.initializationOptions).toEqual({
      housecoder: {
        models: { code_model: 'Qwen/Qwen2.5-Coder-7B', adapter: null },
        context: { max_tokens: 768 },
        completion: { max_new_tokens: null },
      },
    });
    expect(statusText()).toBe('$(check) housecoder');
  });

  it('connects to a shared server at housecoder.serverAddress with the token from housecoder.tokenFile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hc-token-'));
    writeFileSync(join(dir, 'server-token'), 'sEcReT-token\n', { mode: 0o600 });
    const listener = createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    try {
      await start({ 'housecoder.serverAddress': `127.0.0.1:${port}`, 'housecoder.tokenFile': join(dir, 'server-token') });
      const client = lastClient();
      expect(client.clientOptions.initializationOptions).toMatchObject({ token: 'sEcReT-token', housecoder: {} });
      const connect = client.serverOptions as unknown as () => Promise<{ reader: Socket; writer: Socket }>;
      const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
      const stream = await connect();
      expect(stream.reader).toBe(stream.writer);
      expect((await accepted).remotePort).toBe(stream.reader.localPort);
      stream.reader.destroy();
    } finally {
      listener.close();
      rmSync(dir, { recursive: true });
    }
  });

  it('starts nothing and says how to make a token when a shared server has none', async () => {
    const missing = join(tmpdir(), 'hc-no-such-dir', 'server-token');
    await start({ 'housecoder.serverAddress': '127.0.0.1:2087', 'housecoder.tokenFile': missing });
    expect(server.clients).toHaveLength(0);
    expect(statusText()).toBe('$(error) housecoder');
    expect(editor.messages[0].text).toBe(`housecoder: no server token in ${missing} (\`housecoder token\` makes it)`);
    await deactivate();
    editor.reset();
    await start({ 'housecoder.serverAddress': 'gpu-box' });
    expect(editor.messages[0].text).toMatch(/housecoder\.serverAddress "gpu-box": give host:port/);
  });

  it('polls the model state until it is loaded, past an answer that never comes', async () => {
    // While llama-cpp-python loads a model the server's stdout goes to /dev/null: that answer is lost.
    const answers: unknown[] = [new Promise(() => undefined), { model: 'm', model_state: 'loading' }, { model: 'm', model_state: 'ready' }];
    await start({}, () => answers.shift());
    expect(statusText()).toBe('$(loading~spin) housecoder');
    await vi.advanceTimersByTimeAsync(3000);
    expect(lastClient().tokens[0]?.isCancellationRequested).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(statusText()).toBe('$(loading~spin) housecoder');
    await vi.advanceTimersByTimeAsync(1000);
    expect(statusText()).toBe('$(check) housecoder');
    expect(answers).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(lastClient().requests).toHaveLength(3); // no more polling once ready
  });

  it('shows the model error when loading failed', async () => {
    await start({}, () => ({ model: 'm', model_state: 'error', model_error: 'sha256 mismatch' }));
    expect(statusText()).toBe('$(error) housecoder');
    expect(editor.statusItems[0].tooltip).toMatch(/sha256 mismatch/);
  });

  it('shows an error and starts nothing when no server can be found', async () => {
    await start({ 'housecoder.pythonPath': '', 'housecoder.executable': '/nonexistent/housecoder' });
    expect(server.clients).toHaveLength(0);
    expect(statusText()).toBe('$(error) housecoder');
    expect(editor.messages[0]).toMatchObject({ kind: 'error', actions: ['Open Settings'] });
    expect(editor.messages[0].text).toMatch(/housecoder\.executable: \/nonexistent\/housecoder/);
  });

  it('asks the server for inline completions only in enabled languages, after the debounce', async () => {
    await start({ 'housecoder.debounceMs': 100, 'housecoder.languages': { '*': true, markdown: false } });
    const middleware = lastClient().clientOptions.middleware;
    const next = vi.fn(() => Promise.resolve({ items: [{ insertText: 'json.load(f)' }] }));
    const token = new CancellationTokenSource().token;
    const uri = { toString: () => 'file:///work/shop/a.py' };
    expect(middleware.provideInlineCompletionItems({ languageId: 'markdown', uri }, {}, {}, token, next)).toBeUndefined();
    const answer = middleware.provideInlineCompletionItems({ languageId: 'python', uri }, {}, {}, token, next) as Promise<unknown>;
    await vi.advanceTimersByTimeAsync(50);
    expect(next).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(50);
    expect(await answer).toEqual({ items: [{ insertText: 'json.load(f)' }] });
    expect(next).toHaveBeenCalledTimes(1);
  });

  it('restarts a dying server with growing delays and gives up with a visible error', async () => {
    await start();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const clients = server.clients.length;
      lastClient().clientOptions.errorHandler.closed();
      expect(statusText()).toBe('$(error) housecoder');
      let waited = 0;
      while (server.clients.length === clients) {
        await vi.advanceTimersByTimeAsync(250);
        waited += 250;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(server.clients.slice(0, -1).every((client) => client.disposed)).toBe(true);
    lastClient().clientOptions.errorHandler.closed();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.clients).toHaveLength(6);
    expect(editor.messages.at(-1)).toMatchObject({ kind: 'error', actions: ['Show Log', 'Restart'] });
    expect(editor.messages.at(-1)?.text).toMatch(/exited 6 times in a row; not restarting/);
  });

  it('sends changed settings to the running server and restarts it for a new command line', async () => {
    await start({ 'housecoder.adapter': '/adapters/a' });
    const first = lastClient();
    editor.config['housecoder.adapter'] = '';
    editor.config['housecoder.contextBudget'] = 0;
    editor.configChanged.fire({ affectsConfiguration: (section) => section === 'housecoder' });
    await vi.advanceTimersByTimeAsync(0);
    expect(first.notifications).toEqual([{
      method: 'workspace/didChangeConfiguration',
      params: { settings: { housecoder: {
        models: { code_model: null, adapter: null }, context: { max_tokens: 0 }, completion: { max_new_tokens: null },
      } } },
    }]);
    editor.config['housecoder.logFile'] = '/tmp/housecoder.log';
    editor.configChanged.fire({ affectsConfiguration: (section) => section === 'housecoder' });
    await vi.advanceTimersByTimeAsync(0);
    expect(first.disposed).toBe(true);
    expect(lastClient()).not.toBe(first);
    expect(lastClient().serverOptions.args).toEqual(['-m', 'housecoder', 'serve', '--log-file', '/tmp/housecoder.log']);
  });

  it('off is off: no server while housecoder.enable is false, the toggle starts and stops it', async () => {
    await start({ 'housecoder.enable': false });
    expect(server.clients).toHaveLength(0);
    expect(statusText()).toBe('$(circle-slash) housecoder: off');
    await editor.commands.get('housecoder.toggle')!();
    await vi.advanceTimersByTimeAsync(0);
    expect(editor.updates).toEqual([{ key: 'housecoder.enable', value: true, target: 1 }]); // every window
    expect(server.clients).toHaveLength(1);
    const client = lastClient();
    expect(statusText()).toBe('$(check) housecoder');
    await editor.commands.get('housecoder.toggle')!();
    await vi.advanceTimersByTimeAsync(0);
    expect(client.disposed).toBe(true);
    expect(server.clients).toHaveLength(1);
    expect(statusText()).toBe('$(circle-slash) housecoder: off');
    editor.answers.push('Turn On'); // the status item while off offers to turn it on
    await editor.commands.get('housecoder.showStatus')!();
    expect(editor.messages.at(-1)).toMatchObject({ text: 'housecoder is off (housecoder.enable).', actions: ['Turn On'] });
    expect(editor.executed.at(-1)?.id).toBe('housecoder.toggle');
  });

  it('tells the server where the cursor settled on a new line, not on every keystroke', async () => {
    await start();
    const client = lastClient();
    const move = (line: number, character: number) => editor.selectionChanged.fire({
      textEditor: { document: { uri: { toString: () => 'file:///ws/a.py' } } }, selections: [{ active: { line, character } }],
    });
    move(4, 0);
    move(4, 1);
    await vi.advanceTimersByTimeAsync(400);
    move(4, 2); // typing on the same line
    await vi.advanceTimersByTimeAsync(400);
    move(9, 3);
    await vi.advanceTimersByTimeAsync(400);
    expect(client.notifications.filter((n) => n.method === 'housecoder/cursor')).toEqual([
      { method: 'housecoder/cursor', params: { textDocument: { uri: 'file:///ws/a.py' }, position: { line: 4, character: 1 } } },
      { method: 'housecoder/cursor', params: { textDocument: { uri: 'file:///ws/a.py' }, position: { line: 9, character: 3 } } },
    ]);
  });

  it('indexes through the server command and shows indexing meanwhile', async () => {
    await start();
    let finish: (value: unknown) => void = () => undefined;
    server.answer['housecoder.index'] = () => new Promise((resolve) => {
      finish = resolve;
    });
    const running = editor.commands.get('housecoder.indexWorkspace')?.() as Promise<void>;
    await vi.advanceTimersByTimeAsync(0);
    expect(statusText()).toBe('$(sync~spin) housecoder: indexing');
    finish([{ root: '/work/shop', indexed: 5, unchanged: 0, deleted: 0, chunks: 9, seconds: 0.8 }]);
    await running;
    expect(statusText()).toBe('$(check) housecoder');
    expect(editor.messages.at(-1)).toMatchObject({ kind: 'info', text: 'housecoder: shop: 5 files indexed, 0 unchanged, 0 deleted; 9 chunks in 0.8 s' });
  });

  it('reloads the adapter the user picks and runs training as a task', async () => {
    await start();
    server.answer['housecoder.reloadAdapter'] = (args) => ({ adapter: args.length ? null : '/adapters/house-style' });
    editor.answers.push('Configured adapter');
    await editor.commands.get('housecoder.switchAdapter')?.();
    expect(lastClient().requests.at(-1)?.params).toEqual({ command: 'housecoder.reloadAdapter', arguments: [] });
    expect(editor.messages.at(-1)?.text).toBe('housecoder: adapter /adapters/house-style active');
    editor.answers.push('No adapter');
    await editor.commands.get('housecoder.switchAdapter')?.();
    expect(lastClient().requests.at(-1)?.params).toEqual({ command: 'housecoder.reloadAdapter', arguments: [''] });

    await editor.commands.get('housecoder.startTraining')?.();
    const task = editor.tasks[0];
    expect([task.execution.process, ...task.execution.args]).toEqual([process.execPath, '-m', 'housecoder', '-C', '/work/shop', 'train']);
    editor.answers.push('Reload Adapter');
    editor.taskEnded.fire({ execution: { task }, exitCode: 0 }); // another task's end
    await vi.advanceTimersByTimeAsync(0);
    expect(editor.messages.at(-1)?.text).toBe('housecoder: no adapter (base model)');
    editor.taskEnded.fire({ execution: editor.executions[0], exitCode: 0 });
    await vi.advanceTimersByTimeAsync(0);
    expect(editor.messages.at(-1)?.text).toBe('housecoder: training finished.');
    expect(editor.executed.at(-1)?.id).toBe('housecoder.switchAdapter');
  });

  it('shows the server status in the log', async () => {
    await start();
    editor.answers.push('Details');
    await editor.commands.get('housecoder.showStatus')?.();
    expect(editor.messages.at(-1)?.text).toBe('housecoder: qwen2.5-coder-1.5b-instruct ready');
    expect(editor.log).toContain('(shown)');
  });

  it('reports a failed training run', async () => {
    await start();
    await editor.commands.get('housecoder.startTraining')?.();
    editor.taskEnded.fire({ execution: editor.executions[0], exitCode: 2 });
    await vi.advanceTimersByTimeAsync(0);
    expect(editor.messages.at(-1)).toMatchObject({ kind: 'error', text: 'housecoder: training exited with status 2; see its terminal.' });
  });

  describe('accepts', () => {
    const uri = { toString: () => 'file:///work/shop/a.py' };
    const item = {
      insertText: 'price_with_vat(order.net_cents)',
      range: { start: { line: 8, character: 11 }, end: { line: 8, character: 11 } },
      command: { title: 'housecoder: accepted', command: 'housecoder.accepted', arguments: ['s1'] },
    };
    const at = (character: number) => ({ line: 8, character });
    const insert = (character: number, text: string) => editor.documentChanged.fire({
      document: { uri }, contentChanges: [{ range: { start: at(character), end: at(character) }, text }],
    });
    async function show(): Promise<unknown> {
      await start({ 'housecoder.debounceMs': 0 });
      const answer = lastClient().clientOptions.middleware.provideInlineCompletionItems(
        { languageId: 'python', uri }, at(11), {}, new CancellationTokenSource().token, () => Promise.resolve([item]),
      ) as Promise<unknown>;
      await vi.advanceTimersByTimeAsync(0);
      return answer;
    }
    const acceptedRequests = () => lastClient().requests.filter((r) => (r.params as { command: string }).command === 'housecoder.accepted');

    it('keep the item and its housecoder.accepted command: VS Code runs it on Tab and the client forwards it', async () => {
      expect(await show()).toEqual([item]);
      const next = vi.fn(() => Promise.resolve({ recorded: true }));
      const executeCommand = lastClient().clientOptions.middleware.executeCommand;
      expect(await (executeCommand('housecoder.accepted', ['s1'], next) as Promise<unknown>)).toEqual({ recorded: true });
      expect(next).toHaveBeenCalledWith('housecoder.accepted', ['s1']);
      insert(11, item.insertText); // the whole text, as Tab inserts it: reported by the command, not again
      await vi.advanceTimersByTimeAsync(0);
      expect(acceptedRequests()).toEqual([]);
    });

    it('send a partial accept (the next word, Ctrl+Right) as housecoder.accepted [id, characters]', async () => {
      await show();
      insert(11, 'p'); // typed: not an accept
      insert(12, 'rice_'); // the next word
      insert(17, 'with_'); // and the next
      await vi.advanceTimersByTimeAsync(0);
      expect(acceptedRequests().map((r) => r.params)).toEqual([
        { command: 'housecoder.accepted', arguments: ['s1', 5] },
        { command: 'housecoder.accepted', arguments: ['s1', 10] },
      ]);
      insert(30, 'xy'); // elsewhere: the suggestion is gone
      insert(22, 'vat(');
      expect(acceptedRequests()).toHaveLength(2);
    });

    it("show today's acceptance rate once the server reports it, refreshed after an accept", async () => {
      let today = { shown: 11, accepted: 4, rate: 4 / 11 };
      await start({}, () => ({ model: 'm', model_state: 'ready', feedback: { enabled: true, today } }));
      expect(statusText()).toBe('$(check) housecoder · 36% accepted today');
      expect(editor.statusItems[0].tooltip).toContain('Today: 4 of 11 suggestions accepted (36%).');
      today = { shown: 12, accepted: 5, rate: 5 / 12 };
      const executeCommand = lastClient().clientOptions.middleware.executeCommand;
      await (executeCommand('housecoder.accepted', ['s1'], () => Promise.resolve({ recorded: true })) as Promise<unknown>);
      await vi.advanceTimersByTimeAsync(2000);
      expect(statusText()).toBe('$(check) housecoder · 42% accepted today');
    });

    it('show no rate while nothing was shown today, nor for a server without the figures', async () => {
      await start({}, () => ({ model: 'm', model_state: 'ready', feedback: { enabled: true, today: { shown: 0, accepted: 0, rate: null } } }));
      expect(statusText()).toBe('$(check) housecoder');
      expect(editor.statusItems[0].tooltip).toContain('No suggestions shown today yet.');
      await deactivate();
      editor.reset();
      await start();
      expect(editor.statusItems[0].tooltip).toBe('housecoder: ready (qwen2.5-coder-1.5b-instruct)\nClick for details.');
    });
  });

  it("shows the server's trace of the active document's last completion", async () => {
    await start();
    editor.activeLanguage = 'py';
    server.answer['housecoder.lastCompletion'] = (args) => args[0] === 'file:///work/shop/a.py'
      ? { completion: 'json.load(f)', trigger: { reason: 'end of a line' }, snippets: [], timings_ms: { model: 80 } } : null;
    await editor.commands.get('housecoder.showLastCompletion')?.();
    expect(editor.log.join('\n')).toContain('completion: "json.load(f)"\ntrigger: end of a line\ntimings: model 80 ms');
    expect(editor.log.at(-1)).toBe('(shown)');
  });
});
