/**
 * The VS Code entry point: the status bar item, the commands (index, status, reload adapter,
 * training, restart, log) and the settings listener around the language client in server.ts.
 */

import * as vscode from 'vscode';

import { CursorWatcher } from './core/cursor';
import {
  formatLastCompletion, summarizeAdapter, summarizeBackground, summarizeIndex, formatStatus, summarizeStatus,
} from './core/report';
import { displayCommand, LaunchError, trainCommand } from './core/serverCommand';
import { currentSettings, environment, HousecoderServer } from './server';

let server: HousecoderServer | undefined;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length <= 1) {
    return folders[0];
  }
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Folder to train the adapter on' });
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('housecoder', { log: true });
  const statusItem = vscode.window.createStatusBarItem('housecoder.status', vscode.StatusBarAlignment.Right, 100);
  statusItem.name = 'housecoder';
  statusItem.command = 'housecoder.showStatus';
  const current = new HousecoderServer(output, statusItem);
  server = current;
  // The cursor settled on another line: the server prefills that line's prompt while the user is idle.
  const cursor = new CursorWatcher((event) => current.notifyCursor(event));
  context.subscriptions.push(output, statusItem, { dispose: () => void current.dispose() });

  const register = (id: string, run: () => Promise<void>): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, async () => {
      try {
        await run();
      } catch (err) {
        output.error(`${id}: ${errorText(err)}`);
        void vscode.window.showErrorMessage(`housecoder: ${errorText(err)}`);
      }
    }));
  };

  register('housecoder.indexWorkspace', async () => {
    const summary = summarizeIndex(await current.index());
    output.info(summary.message);
    void (summary.ok ? vscode.window.showInformationMessage(summary.message) : vscode.window.showErrorMessage(summary.message));
  });

  register('housecoder.showStatus', async () => {
    if (!current.running && !currentSettings().enable) {
      if (await vscode.window.showInformationMessage('housecoder is off (housecoder.enable).', 'Turn On')) {
        await vscode.commands.executeCommand('housecoder.toggle');
      }
      return;
    }
    if (!current.running) {
      const choice = await vscode.window.showWarningMessage('housecoder: the server is not running.', 'Restart', 'Show Log');
      if (choice === 'Restart') {
        await current.restart();
      } else if (choice === 'Show Log') {
        output.show();
      }
      return;
    }
    const status = await current.command('housecoder.status');
    output.info(`status\n${formatStatus(status)}`);
    if ((await vscode.window.showInformationMessage(summarizeStatus(status), 'Details')) === 'Details') {
      output.show();
    }
  });

  register('housecoder.showLastCompletion', async () => {
    const document = vscode.window.activeTextEditor?.document;
    if (document === undefined) {
      throw new Error('open the file whose last completion you want to see');
    }
    const trace = await current.command('housecoder.lastCompletion', document.uri.toString());
    output.info(`last completion in ${vscode.workspace.asRelativePath(document.uri)}\n${formatLastCompletion(trace)}`);
    output.show(true);
  });

  register('housecoder.switchAdapter', async () => {
    const configured = currentSettings().adapter;
    const choice = await vscode.window.showQuickPick(
      [
        { label: 'Configured adapter', description: configured || 'models.adapter from the project, or none', args: [] as unknown[] },
        { label: 'Choose a folder…', description: 'a peft LoRA adapter directory', args: undefined },
        { label: 'No adapter', description: 'the base model', args: [''] },
      ],
      { placeHolder: 'Switch the LoRA adapter of the running server' },
    );
    if (choice === undefined) {
      return;
    }
    let args = choice.args;
    if (args === undefined) {
      const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use adapter' });
      if (!picked?.length) {
        return;
      }
      args = [picked[0].fsPath];
    }
    const summary = summarizeAdapter(await current.command('housecoder.reloadAdapter', ...args));
    output.info(summary.message);
    void (summary.ok ? vscode.window.showInformationMessage(summary.message) : vscode.window.showErrorMessage(summary.message));
  });

  register('housecoder.startTraining', async () => {
    const folder = await pickFolder();
    if (folder === undefined) {
      throw new Error('open a folder to train an adapter on');
    }
    let line;
    try {
      line = trainCommand(currentSettings(), environment(), folder.uri.fsPath);
    } catch (err) {
      throw err instanceof LaunchError ? new Error(err.message) : err;
    }
    output.info(`training: ${displayCommand(line)}`);
    // A task runs the process in a terminal of its own: its progress shows there, the terminal stays
    // open after it ends, and the exit code comes back.
    const task = new vscode.Task(
      { type: 'housecoder', task: 'train' }, folder, `train ${folder.name}`, 'housecoder',
      new vscode.ProcessExecution(line.command, line.args, { cwd: folder.uri.fsPath }),
    );
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
    const execution = await vscode.tasks.executeTask(task);
    const ended = vscode.tasks.onDidEndTaskProcess(async (event) => {
      if (event.execution !== execution) {
        return;
      }
      ended.dispose();
      if (event.exitCode === 0) {
        if ((await vscode.window.showInformationMessage('housecoder: training finished.', 'Reload Adapter')) === 'Reload Adapter') {
          await vscode.commands.executeCommand('housecoder.switchAdapter');
        }
      } else {
        void vscode.window.showErrorMessage(`housecoder: training exited with status ${String(event.exitCode)}; see its terminal.`);
      }
    });
    context.subscriptions.push(ended);
  });

  register('housecoder.trainInBackground', async () => {
    const message = summarizeBackground(await current.trainInBackground());
    output.info(message);
    void vscode.window.showInformationMessage(message);
  });

  register('housecoder.restartServer', () => current.restart());
  // On and off for every window (the user's settings); the settings listener starts or stops the server.
  register('housecoder.toggle', async () => {
    const config = vscode.workspace.getConfiguration('housecoder');
    await config.update('enable', config.get('enable') === false, vscode.ConfigurationTarget.Global);
  });
  register('housecoder.showLog', () => Promise.resolve(output.show()));

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('housecoder')) {
        current.settingsChanged().catch((err: unknown) => output.error(`settings: ${errorText(err)}`));
      }
    }),
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      current.refreshView();
      const active = editor?.selection.active;
      if (editor !== undefined && active !== undefined) {
        cursor.moved({ uri: editor.document.uri.toString(), line: active.line, character: active.character });
      }
    }),
    vscode.workspace.onDidChangeTextDocument((event) => current.documentChanged(event)),
    vscode.window.onDidChangeTextEditorSelection((event) => {
      const active = event.selections[0]?.active;
      if (active !== undefined) {
        cursor.moved({ uri: event.textEditor.document.uri.toString(), line: active.line, character: active.character });
      }
    }),
    { dispose: () => cursor.dispose() },
  );

  // Not awaited: activation must not wait for the server (start() reports its own failures).
  void current.start();
}

export async function deactivate(): Promise<void> {
  await server?.dispose();
  server = undefined;
}
