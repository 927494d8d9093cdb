/**
 * Text for the user from the server's command results: `housecoder.status` (server/session.py
 * `Session.status`, server/status.py `folder_status`), `housecoder.index` and
 * `housecoder.reloadAdapter` (server/app.py).
 *
 * Pure: the shapes are checked here, so a server that answers something else gives a plain message.
 */

import type { FeedbackToday, TrainingView } from './status';

export interface FolderStatus {
  root: string;
  index?: string;
  indexing?: boolean;
  indexed?: boolean;
  error?: string;
  files?: number;
  chunks?: number;
  symbols?: number;
  last_indexed?: string | number | null;
  stale_files?: number;
  embedder?: string;
  /** Background training of the folder (housecoder/models/background.py `background_status`); null: never ran. */
  training?: TrainingStatus | null;
}

export interface TrainingStatus {
  phase?: string;
  paused?: boolean;
  running?: boolean;
  tokens_learned?: number;
  tokens_planned?: number;
  line?: string;
}

export interface ServerStatus {
  model?: string;
  model_state?: 'ready' | 'loading' | 'error';
  model_error?: string;
  runtime?: string | null;
  model_path?: string | null;
  device?: string | null;
  adapter?: string | null;
  folders?: FolderStatus[];
  /** The last completion request: shown or not, and why (server/decision.py). */
  last_decision?: { uri?: string; line?: number; character?: number; shown?: boolean; reason?: string } | null;
}

export interface IndexResult {
  root: string;
  indexed?: number;
  unchanged?: number;
  deleted?: number;
  chunks?: number;
  symbols?: number;
  seconds?: number;
  error?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function name(root: string): string {
  return root.split(/[\\/]/).filter(Boolean).pop() ?? root;
}

/** The model state from a status answer, for the status bar. */
export function modelState(status: unknown): { state: 'loading' | 'ready' | 'error'; model?: string; error?: string } | undefined {
  if (!isRecord(status) || !['loading', 'ready', 'error'].includes(String(status.model_state))) {
    return undefined;
  }
  return {
    state: status.model_state as 'loading' | 'ready' | 'error',
    model: typeof status.model === 'string' ? status.model : undefined,
    error: typeof status.model_error === 'string' && status.model_error ? status.model_error : undefined,
  };
}

/**
 * Today's acceptance figures from a status answer (`feedback: {enabled, today: {shown, accepted, rate}}`);
 * undefined when the server does not report them or recording is off.
 */
export function feedbackToday(status: unknown): FeedbackToday | undefined {
  if (!isRecord(status) || !isRecord(status.feedback) || status.feedback.enabled !== true || !isRecord(status.feedback.today)) {
    return undefined;
  }
  const { shown, accepted, rate } = status.feedback.today;
  if (typeof shown !== 'number' || typeof accepted !== 'number') {
    return undefined;
  }
  return { shown, accepted, rate: typeof rate === 'number' && Number.isFinite(rate) ? rate : null };
}

/**
 * The background training to show in the status bar: the first folder whose run is live, else the first
 * with any record (finished, failed or stopped); undefined when no folder ever trained in the background.
 */
export function trainingOf(status: unknown): TrainingView | undefined {
  if (!isRecord(status) || !Array.isArray(status.folders)) {
    return undefined;
  }
  const records = (status.folders as unknown[])
    .filter(isRecord)
    .map((folder) => ({ root: typeof folder.root === 'string' ? folder.root : '', training: folder.training }))
    .filter((folder): folder is { root: string; training: TrainingStatus } => isRecord(folder.training));
  const chosen = records.find((folder) => folder.training.running === true) ?? records[0];
  if (chosen === undefined) {
    return undefined;
  }
  const { training } = chosen;
  const running = training.running === true;
  const ended = training.phase === 'finished' || training.phase === 'failed';
  const planned = training.tokens_planned ?? 0;
  let short = '';
  if (running) {
    short = training.paused ? 'learning paused' : (training.phase === 'training' && planned > 0
      ? `learning ${Math.floor((100 * (training.tokens_learned ?? 0)) / planned)}%` : 'learning');
  }
  return {
    running, active: running || !ended, short, line: `${name(chosen.root)}: ${training.line ?? training.phase ?? 'unknown'}`,
  };
}

/** The index's commit time: seconds since the epoch (LanceDB meta `committed_at`) or a string as it is. */
function when(value: string | number): string {
  return typeof value === 'number' ? new Date(value * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : value;
}

function folderLines(folder: FolderStatus): string[] {
  const lines = [`${name(folder.root)} (${folder.root})`];
  if (folder.indexing) {
    lines.push('  indexing now');
  }
  if (folder.error) {
    lines.push(`  index: ${folder.index ?? '?'}: ${folder.error}`);
  } else if (!folder.indexed) {
    lines.push('  no index yet: run "housecoder: Index Workspace" for repository context');
  } else {
    lines.push(`  index: ${folder.index ?? '?'}`);
    lines.push(`  ${folder.files ?? 0} files, ${folder.chunks ?? 0} chunks, ${folder.symbols ?? 0} symbols`);
    if (folder.last_indexed) {
      lines.push(`  last indexed: ${when(folder.last_indexed)}`);
    }
    if (folder.stale_files) {
      lines.push(`  ${folder.stale_files} files changed since`);
    }
  }
  if (isRecord(folder.training) && typeof folder.training.line === 'string') {
    lines.push(`  background training: ${folder.training.line}`);
  }
  return lines;
}

/** A multi-line report of `housecoder.status` for the output channel. */
export function formatStatus(status: unknown): string {
  if (!isRecord(status) || Object.keys(status).length === 0) {
    return 'housecoder: the server has not initialized yet';
  }
  const s = status as ServerStatus;
  const lines = [`model: ${s.model ?? '?'} (${s.model_state ?? '?'})`];
  if (s.model_error) {
    lines.push(`model error: ${s.model_error}`);
  }
  const runtime = [s.runtime, s.device].filter(Boolean).join(' on ');
  if (runtime) {
    lines.push(`runtime: ${runtime}`);
  }
  if (s.model_path) {
    lines.push(`model path: ${s.model_path}`);
  }
  lines.push(`adapter: ${s.adapter ?? 'none'}`);
  const today = feedbackToday(status);
  if (today !== undefined) {
    lines.push(`today: ${today.shown} suggestions shown, ${today.accepted} accepted` +
      (today.rate === null ? '' : ` (${Math.round(today.rate * 100)}%)`));
  }
  const last = s.last_decision;
  if (isRecord(last) && typeof last.reason === 'string') {
    const where = typeof last.uri === 'string' && typeof last.line === 'number'
      ? ` (${name(last.uri)}:${last.line + 1})` : '';
    lines.push(`last request: ${last.reason}${where}`);
  }
  for (const folder of s.folders ?? []) {
    lines.push(...folderLines(folder));
  }
  return lines.join('\n');
}

/** One line for a notification. */
export function summarizeStatus(status: unknown): string {
  const state = modelState(status);
  if (state === undefined) {
    return 'housecoder: the server has not initialized yet';
  }
  const folders = ((status as ServerStatus).folders ?? []).map((folder) =>
    folder.indexed ? `${name(folder.root)}: ${folder.files ?? 0} files indexed` : `${name(folder.root)}: no index`,
  );
  const adapter = (status as ServerStatus).adapter;
  return [`housecoder: ${state.model ?? 'model'} ${state.state}`, adapter ? `adapter ${name(adapter)}` : '', ...folders]
    .filter(Boolean)
    .join('; ');
}

/** What `housecoder.index` did, one folder per clause; `ok` is false when any folder failed. */
export function summarizeIndex(results: unknown): { ok: boolean; message: string } {
  if (!Array.isArray(results) || results.length === 0) {
    return { ok: false, message: 'housecoder: no workspace folder to index' };
  }
  const parts = (results as IndexResult[]).map((result) =>
    result.error
      ? result.error
      : `${name(result.root)}: ${result.indexed ?? 0} files indexed, ${result.unchanged ?? 0} unchanged, ` +
        `${result.deleted ?? 0} deleted; ${result.chunks ?? 0} chunks in ${result.seconds ?? 0} s`,
  );
  return { ok: (results as IndexResult[]).every((result) => !result.error), message: `housecoder: ${parts.join('; ')}` };
}

/** What `housecoder.trainBackground` answered: one clause per folder. */
export function summarizeBackground(result: unknown): string {
  if (!Array.isArray(result) || result.length === 0) {
    return 'housecoder: no workspace folder to train on';
  }
  const text = (value: unknown): string => (typeof value === 'string' ? value : '?');
  const parts = result.filter(isRecord).map((folder) => `${name(text(folder.root))}: ${text(folder.state)}`);
  return `housecoder: background training: ${parts.join('; ')}`;
}

/** What `housecoder.reloadAdapter` answered. */
export function summarizeAdapter(result: unknown): { ok: boolean; message: string } {
  if (!isRecord(result) || !('adapter' in result)) {
    return { ok: false, message: 'housecoder: the server has not initialized yet' };
  }
  if (typeof result.error === 'string') {
    return { ok: false, message: `housecoder: ${result.error}` };
  }
  return {
    ok: true,
    message: typeof result.adapter === 'string' && result.adapter
      ? `housecoder: adapter ${result.adapter} active` : 'housecoder: no adapter (base model)',
  };
}

/**
 * `housecoder.lastCompletion` (the server's trace of a document's last completion) for the log: the
 * completion as a JSON string on its own line, why it was triggered, the snippets and the stage timings.
 */
export function formatLastCompletion(trace: unknown): string {
  if (!isRecord(trace) || typeof trace.completion !== 'string') {
    return 'no completion for this document yet';
  }
  const lines = [`completion: ${JSON.stringify(trace.completion)}`];
  if (typeof trace.why === 'string') {
    lines.push(`why: ${trace.why}`);
  }
  const trigger = isRecord(trace.trigger) ? trace.trigger : {};
  if (typeof trigger.reason === 'string') {
    lines.push(`trigger: ${trigger.reason}${trigger.multi_line === true ? ' (multi-line)' : ''}`);
  }
  const stats = [
    typeof trace.prompt_tokens === 'number' ? `prompt ${trace.prompt_tokens} tokens` : '',
    typeof trace.new_tokens === 'number' ? `${trace.new_tokens} new` : '',
    typeof trace.stopped_by === 'string' && trace.stopped_by ? `stopped by ${trace.stopped_by}` : '',
    typeof trace.cached === 'string' && trace.cached ? `cached: ${trace.cached}` : '',
  ].filter(Boolean);
  if (stats.length) {
    lines.push(stats.join(', '));
  }
  for (const snippet of Array.isArray(trace.snippets) ? trace.snippets : []) {
    if (isRecord(snippet)) {
      const text = (value: unknown) => (typeof value === 'string' ? value : '?');
      lines.push(`snippet: ${text(snippet.path)} (${text(snippet.reason)})`);
    }
  }
  if (isRecord(trace.timings_ms)) {
    lines.push(`timings: ${Object.entries(trace.timings_ms).map(([stage, ms]) => `${stage} ${String(ms)} ms`).join(', ')}`);
  }
  return lines.join('\n');
}
