import { describe, expect, it } from 'vitest';

import { acceptedId, PartialAccepts, type TextChange } from '../src/core/accepts';

const URI = 'file:///shop/checkout.py';
const at = (line: number, character: number) => ({ line, character });
const insert = (line: number, character: number, text: string): TextChange => ({ start: at(line, character), end: at(line, character), text });

function tracking(text = 'price_with_vat(order.net_cents)\nreturn x', start = at(8, 11)): PartialAccepts {
  const accepts = new PartialAccepts();
  accepts.shown({ uri: URI, id: 's1', start, text });
  return accepts;
}

describe('partial accepts', () => {
  const table: Array<[string, TextChange[][], Array<number | undefined>]> = [
    ['a word', [[insert(8, 11, 'price_')]], [6]],
    ['two words in a row add up', [[insert(8, 11, 'price_')], [insert(8, 17, 'with_')]], [6, 11]],
    ['typed characters are not accepts, and move the place', [[insert(8, 11, 'p')], [insert(8, 12, 'rice_')]], [undefined, 5]],
    ['the next line (across the line break)', [[insert(8, 11, 'price_with_vat(order.net_cents)\n')], [insert(9, 0, 'return')]], [32, 38]],
    ['all the rest is a whole accept (its command reports it)', [[insert(8, 11, 'price_with_vat(order.net_cents)\nreturn x')]], [undefined]],
    ['CRLF documents', [[insert(8, 11, 'price_with_vat(order.net_cents)\r\n')]], [32]],
    ['other text at the place', [[insert(8, 11, 'total_')]], [undefined]],
    ['the right text elsewhere', [[insert(3, 0, 'price_')]], [undefined]],
    ['a replacement, not an insertion', [[{ start: at(8, 10), end: at(8, 11), text: 'price_' }]], [undefined]],
    ['several changes at once (a multi-cursor edit)', [[insert(8, 11, 'price_'), insert(9, 0, 'price_')]], [undefined]],
  ];
  it.each(table)('%s', (_name, steps, expected) => {
    const accepts = tracking();
    expect(steps.map((changes) => accepts.changed(URI, changes)?.acceptedChars)).toEqual(expected);
  });

  it('stops tracking after an unrelated edit, and ignores other documents', () => {
    const accepts = tracking();
    expect(accepts.changed('file:///other.py', [insert(8, 11, 'price_')])).toBeUndefined();
    expect(accepts.changed(URI, [insert(8, 11, 'price_')])).toEqual({ id: 's1', acceptedChars: 6 });
    expect(accepts.changed(URI, [insert(2, 0, '#')])).toBeUndefined();
    expect(accepts.changed(URI, [insert(8, 17, 'with_')])).toBeUndefined();
  });

  it('tracks the newest suggestion shown; an empty answer keeps the one on screen', () => {
    const accepts = tracking();
    accepts.shown({ uri: URI, id: 's2', start: at(8, 17), text: 'with_vat(order.net_cents)' });
    accepts.shown({ uri: URI, id: 's3', start: at(8, 17), text: '' });
    expect(accepts.changed(URI, [insert(8, 17, 'with_')])).toEqual({ id: 's2', acceptedChars: 5 });
    accepts.clear();
    expect(accepts.changed(URI, [insert(8, 22, 'vat(')])).toBeUndefined();
  });

  it("reads the id from the item's housecoder.accepted command", () => {
    expect(acceptedId({ command: 'housecoder.accepted', arguments: ['abc'] })).toBe('abc');
    expect(acceptedId({ command: 'housecoder.accepted', arguments: [7] })).toBe('7');
    expect(acceptedId({ command: 'other', arguments: ['abc'] })).toBeUndefined();
    expect(acceptedId({ command: 'housecoder.accepted' })).toBeUndefined();
    expect(acceptedId(undefined)).toBeUndefined();
  });
});
