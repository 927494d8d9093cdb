/**
 * Accepts of inline suggestions, reported to the server as `housecoder.accepted` (its acceptance
 * statistics).
 *
 * A whole accept (Tab) needs nothing here: the server puts `command: housecoder.accepted [id]` on its
 * item, VS Code runs an item's command after inserting it, and the language client forwards the
 * command to the server. A partial accept (Ctrl+Right: the next word; the next line) runs no command,
 * and the provider hook that reports it (`handleDidPartiallyAcceptCompletionItem`) is a proposed API
 * (inlineCompletionsAdditions) that a released extension may not use. So partial accepts are seen in
 * the document changes instead: an insertion of two or more characters exactly where the shown
 * suggestion continues, and equal to its next part, but not all of the rest of it. Single characters
 * are typing (VS Code keeps the suggestion while the user types what it shows) and are not counted.
 *
 * Pure: positions are plain line/character pairs; the extension feeds in what it showed and what changed.
 */

export interface Position {
  line: number;
  character: number;
}

export interface ShownSuggestion {
  uri: string;
  /** The server's id for the suggestion: the first argument of its `housecoder.accepted` command. */
  id: string;
  /** Where the suggestion's text starts (the start of its range). */
  start: Position;
  text: string;
}

export interface TextChange {
  /** The replaced range; an insertion has start equal to end. */
  start: Position;
  end: Position;
  text: string;
}

export interface PartialAccept {
  id: string;
  /**
   * Characters of the suggestion taken by partial accepts so far (earlier ones included), not counting
   * characters typed through before them: the server counts those itself, from the requests typing sends.
   */
  acceptedChars: number;
}

/** The id a server item carries in its `housecoder.accepted` command, if any. */
export function acceptedId(command: { command: string; arguments?: unknown[] } | undefined): string | undefined {
  const id = command?.command === 'housecoder.accepted' ? command.arguments?.[0] : undefined;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** Where `text` ends when inserted at `start`. */
function advance(start: Position, text: string): Position {
  const lines = text.split('\n');
  return lines.length === 1
    ? { line: start.line, character: start.character + text.length }
    : { line: start.line + lines.length - 1, character: lines[lines.length - 1].length };
}

function same(a: Position, b: Position): boolean {
  return a.line === b.line && a.character === b.character;
}

export class PartialAccepts {
  private current: (ShownSuggestion & { typed: number; accepted: number }) | undefined;

  /**
   * A suggestion was handed to the editor to show; it replaces the one tracked before. (Typing through a
   * suggestion brings the rest of it back from the server under the same id, tracked from the new cursor.)
   */
  shown(suggestion: ShownSuggestion): void {
    if (suggestion.text) {
      this.current = { ...suggestion, typed: 0, accepted: 0 };
    }
  }

  /** Stop tracking (the server went away, completions were switched off). */
  clear(): void {
    this.current = undefined;
  }

  /** A document changed: a partial accept of the tracked suggestion, or undefined. */
  changed(uri: string, changes: readonly TextChange[]): PartialAccept | undefined {
    const shown = this.current;
    if (shown === undefined || shown.uri !== uri) {
      return undefined;
    }
    if (changes.length !== 1) {
      this.current = undefined;
      return undefined;
    }
    const [change] = changes;
    const done = shown.typed + shown.accepted;
    const rest = shown.text.slice(done);
    const at = advance(shown.start, shown.text.slice(0, done));
    const inserted = change.text.replace(/\r\n/g, '\n');
    if (!same(change.start, at) || !same(change.end, at) || !rest.startsWith(inserted) || inserted.length === 0) {
      this.current = undefined; // an edit elsewhere or different text: the suggestion is gone
      return undefined;
    }
    if (inserted.length === rest.length) {
      this.current = undefined; // all the rest of it: a whole accept, which the item's command reports
      return undefined;
    }
    if (inserted.length === 1) {
      shown.typed += 1; // typing what the suggestion shows
      return undefined;
    }
    shown.accepted += inserted.length;
    return { id: shown.id, acceptedChars: shown.accepted };
  }
}
