/**
 * The status bar item's state: what the server is doing (starting, loading the model, ready,
 * indexing, generating) or why it is not working (error, stopped), as a reducer over events
 * plus a view. Indexing and generating overlap (the server indexes on its own thread), so both
 * are counted; an error stays until the server is up again.
 *
 * Pure: the extension turns `StatusView` into a `vscode.StatusBarItem`.
 */

export type Phase = 'stopped' | 'starting' | 'loading' | 'ready' | 'error' | 'off';

export interface StatusState {
  phase: Phase;
  /** Index jobs running (the `housecoder.index` command). */
  indexing: number;
  /** Completion requests in flight. */
  generating: number;
  /** The model's name as the server reports it. */
  model?: string;
  /** Why the phase is `error` (or the last non-fatal problem). */
  message?: string;
  /** Seconds until the next restart attempt, while one is scheduled. */
  restartInSeconds?: number;
  /** Today's suggestions shown and accepted, from `housecoder.status` (absent: the server does not record them). */
  feedback?: FeedbackToday;
  /** Background training, from `housecoder.status` (absent: none ever ran in these folders). */
  training?: TrainingView;
}

export interface TrainingView {
  /** Whether a run is live now. */
  running: boolean;
  /** Live, or not ended (starting, or stopped mid-run and about to be resumed): worth asking again. */
  active: boolean;
  /** For the status bar while it runs ('learning 42%', 'learning paused'); '' when none runs. */
  short: string;
  /** The tooltip's line: folder, phase, tokens learned, or the last verdict. */
  line: string;
}

export interface FeedbackToday {
  shown: number;
  accepted: number;
  /** accepted / shown; null while nothing was shown today. */
  rate: number | null;
}

export type StatusEvent =
  | { type: 'starting' }
  | { type: 'running' }
  | { type: 'model'; state: 'loading' | 'ready' | 'error'; model?: string; error?: string }
  | { type: 'feedback'; feedback: FeedbackToday | undefined }
  | { type: 'training'; training: TrainingView | undefined }
  | { type: 'indexStart' }
  | { type: 'indexEnd' }
  | { type: 'generateStart' }
  | { type: 'generateEnd' }
  | { type: 'exited'; restartInMs: number }
  | { type: 'failed'; message: string }
  | { type: 'stopped' }
  | { type: 'off' };

export const INITIAL_STATUS: StatusState = { phase: 'stopped', indexing: 0, generating: 0 };

/** The state after `event`. Never mutates `state`. */
export function reduce(state: StatusState, event: StatusEvent): StatusState {
  switch (event.type) {
    case 'starting':
      return { ...state, phase: 'starting', indexing: 0, generating: 0, message: undefined, restartInSeconds: undefined };
    case 'running':
      return { ...state, phase: 'loading', message: undefined, restartInSeconds: undefined };
    case 'model':
      if (state.phase === 'stopped' || state.phase === 'starting') {
        return state; // a late status answer from a process that is gone
      }
      if (event.state === 'error') {
        return { ...state, phase: 'error', model: event.model ?? state.model, message: event.error ?? 'the model failed to load' };
      }
      return { ...state, phase: event.state, model: event.model ?? state.model, message: undefined };
    case 'feedback':
      return { ...state, feedback: event.feedback };
    case 'training':
      return { ...state, training: event.training };
    case 'indexStart':
      return { ...state, indexing: state.indexing + 1 };
    case 'indexEnd':
      return { ...state, indexing: Math.max(0, state.indexing - 1) };
    case 'generateStart':
      return { ...state, generating: state.generating + 1 };
    case 'generateEnd':
      return { ...state, generating: Math.max(0, state.generating - 1) };
    case 'exited':
      return {
        ...state, phase: 'error', indexing: 0, generating: 0,
        message: 'the server stopped', restartInSeconds: Math.ceil(event.restartInMs / 1000),
      };
    case 'failed':
      return { ...state, phase: 'error', indexing: 0, generating: 0, message: event.message, restartInSeconds: undefined };
    case 'stopped':
      return { ...INITIAL_STATUS, model: state.model };
    case 'off':
      return { ...INITIAL_STATUS, phase: 'off', model: state.model };
  }
}

export interface StatusView {
  /** Status bar text with a codicon, e.g. `$(sync~spin) housecoder: indexing`. */
  text: string;
  tooltip: string;
  /** `error` paints the item with the error background. */
  severity: 'normal' | 'warning' | 'error';
}

/** What the status bar shows; `languageEnabled` is false when completions are off for the active editor. */
export function view(state: StatusState, languageEnabled = true): StatusView {
  const model = state.model ? ` (${state.model})` : '';
  if (state.phase === 'error') {
    const retry = state.restartInSeconds !== undefined ? `; restarting in ${state.restartInSeconds} s` : '';
    return { text: '$(error) housecoder', tooltip: `housecoder: ${state.message ?? 'error'}${retry}`, severity: 'error' };
  }
  if (state.phase === 'off') {
    return {
      text: '$(circle-slash) housecoder: off',
      tooltip: 'housecoder: off (housecoder.enable); no server runs and nothing is sent. *housecoder: Toggle Completions* turns it on',
      severity: 'normal',
    };
  }
  if (state.phase === 'stopped') {
    return { text: '$(circle-slash) housecoder', tooltip: 'housecoder: the server is not running', severity: 'warning' };
  }
  if (state.indexing > 0) {
    return { text: '$(sync~spin) housecoder: indexing', tooltip: `housecoder: indexing the workspace${model}`, severity: 'normal' };
  }
  if (state.phase === 'starting') {
    return { text: '$(loading~spin) housecoder', tooltip: 'housecoder: starting the server', severity: 'normal' };
  }
  if (state.phase === 'loading') {
    return { text: '$(loading~spin) housecoder', tooltip: `housecoder: loading the model${model}`, severity: 'normal' };
  }
  if (state.generating > 0) {
    return { text: '$(loading~spin) housecoder: generating', tooltip: `housecoder: generating a completion${model}`, severity: 'normal' };
  }
  const today = [feedbackLine(state.feedback), state.training ? `Background training: ${state.training.line}` : '']
    .filter(Boolean).join('\n');
  const learning = state.training?.short ? ` · ${state.training.short}` : '';
  if (!languageEnabled) {
    return {
      text: '$(circle-slash) housecoder',
      tooltip: `housecoder: ready; off for this language (housecoder.languages)${today ? `\n${today}` : ''}`,
      severity: 'normal',
    };
  }
  const rate = state.feedback?.rate;
  return {
    text: (rate === null || rate === undefined ? '$(check) housecoder' : `$(check) housecoder · ${percent(rate)} accepted today`) + learning,
    tooltip: `housecoder: ready${model}${today ? `\n${today}` : ''}`,
    severity: 'normal',
  };
}

function percent(rate: number): string {
  return `${Math.round(rate * 100)}%`;
}

/** The tooltip's line about today's accepts, or '' when the server does not report them. */
function feedbackLine(feedback: FeedbackToday | undefined): string {
  if (feedback === undefined) {
    return '';
  }
  if (feedback.rate === null || feedback.shown === 0) {
    return 'No suggestions shown today yet.';
  }
  return `Today: ${feedback.accepted} of ${feedback.shown} suggestions accepted (${percent(feedback.rate)}).`;
}
