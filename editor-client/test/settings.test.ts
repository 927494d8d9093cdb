import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  configurationChange,
  DEFAULT_SETTINGS,
  isLanguageEnabled,
  needsRestart,
  readSettings,
  SERVER_SECTIONS,
  serverSections,
  unknownSectionWarning,
  unknownSections,
  type ExtensionSettings,
} from '../src/core/settings';

function settings(overrides: Partial<ExtensionSettings> = {}): ExtensionSettings {
  return { ...DEFAULT_SETTINGS, ...overrides };
}

describe('readSettings', () => {
  it('gives the defaults when nothing is set', () => {
    expect(readSettings(() => undefined)).toEqual(DEFAULT_SETTINGS);
  });

  it('types what VS Code hands over and drops values of the wrong type', () => {
    const raw: Record<string, unknown> = {
      pythonPath: '  /venv/bin/python ', executable: '', model: 'Qwen/Qwen2.5-Coder-7B', contextBudget: 768,
      maxNewTokens: 0, debounceMs: -5, enable: 'yes', languages: { python: false, go: 'no' },
      serverSettings: { server: { complete_in_comments: true }, inference: 'llama.cpp' },
    };
    const read = readSettings((key) => raw[key]);
    expect(read.pythonPath).toBe('/venv/bin/python');
    expect(read.executable).toBe('housecoder');
    expect(read.model).toBe('Qwen/Qwen2.5-Coder-7B');
    expect(read.contextBudget).toBe(768);
    expect(read.maxNewTokens).toBeNull();
    expect(read.debounceMs).toBe(150);
    expect(read.enable).toBe(true);
    expect(read.languages).toEqual({ python: false });
    expect(read.serverSettings).toEqual({ server: { complete_in_comments: true } });
  });

  it('refuses a fractional context budget', () => {
    expect(readSettings((key) => (key === 'contextBudget' ? 12.5 : undefined)).contextBudget).toBeNull();
  });
});

describe('serverSections', () => {
  const table: Array<[string, Partial<ExtensionSettings>, Record<string, Record<string, unknown>>]> = [
    ['nothing set: every dedicated key is null, so the project file or the default applies', {},
      { models: { code_model: null, adapter: null }, context: { max_tokens: null }, completion: { max_new_tokens: null } }],
    ['model, adapter and budgets map to their config keys',
      { model: 'qwen2.5-coder-1.5b-instruct', adapter: '/adapters/house-style', contextBudget: 768, maxNewTokens: 32 },
      { models: { code_model: 'qwen2.5-coder-1.5b-instruct', adapter: '/adapters/house-style' },
        context: { max_tokens: 768 }, completion: { max_new_tokens: 32 } }],
    ['a zero context budget is a real value (no context), not unset', { contextBudget: 0 },
      { models: { code_model: null, adapter: null }, context: { max_tokens: 0 }, completion: { max_new_tokens: null } }],
    ['serverSettings pass through; the dedicated settings win over the same key',
      { model: 'm', serverSettings: { models: { code_model: 'other', offline: true }, server: { complete_in_comments: true } } },
      { models: { code_model: 'm', adapter: null, offline: true }, server: { complete_in_comments: true },
        context: { max_tokens: null }, completion: { max_new_tokens: null } }],
    ['serverSettings fill a dedicated key that is unset', { serverSettings: { context: { max_tokens: 99, enabled: false } } },
      { models: { code_model: null, adapter: null }, context: { max_tokens: 99, enabled: false }, completion: { max_new_tokens: null } }],
    ['an unknown section is never sent', { serverSettings: { modles: { code_model: 'x' } } },
      { models: { code_model: null, adapter: null }, context: { max_tokens: null }, completion: { max_new_tokens: null } }],
  ];
  it.each(table)('%s', (_name, overrides, expected) => {
    expect(serverSections(settings(overrides))).toEqual(expected);
  });

  it('names the unknown sections for a warning', () => {
    expect(unknownSections(settings({ serverSettings: { modles: {}, server: {} } }))).toEqual(['modles']);
  });

  it('names the new name of a renamed section', () => {
    expect(unknownSections(settings({ serverSettings: { telemetry: { enabled: false } } }))).toEqual(['telemetry']);
    expect(unknownSectionWarning('telemetry')).toBe('housecoder.serverSettings: "telemetry" is now "feedback"; not sent');
    expect(unknownSectionWarning('modles')).toContain('is not a housecoder settings section');
    expect(unknownSectionWarning('constructor')).toContain('is not a housecoder settings section');
  });
});

describe('configurationChange', () => {
  it('sends a key that disappeared as null, because the server merges changes into what it has', () => {
    const before = { models: { code_model: 'a', adapter: '/x' }, server: { complete_in_comments: true } };
    const after = { models: { code_model: 'a', adapter: null } };
    expect(configurationChange(before, after)).toEqual({
      models: { code_model: 'a', adapter: null },
      server: { complete_in_comments: null },
    });
  });

  it('sends new keys as they are', () => {
    expect(configurationChange({}, { context: { max_tokens: 5 } })).toEqual({ context: { max_tokens: 5 } });
  });
});

describe('isLanguageEnabled', () => {
  const table: Array<[Partial<ExtensionSettings>, string, boolean]> = [
    [{}, 'python', true],
    [{}, 'markdown', false],
    [{}, 'plaintext', false],
    [{ languages: { '*': false, python: true } }, 'python', true],
    [{ languages: { '*': false, python: true } }, 'go', false],
    [{ languages: {} }, 'markdown', true],
    [{ enable: false }, 'python', false],
  ];
  it.each(table)('%j for %s is %s', (overrides, language, expected) => {
    expect(isLanguageEnabled(settings(overrides), language)).toBe(expected);
  });
});

describe('needsRestart', () => {
  it('restarts for a new command line only', () => {
    expect(needsRestart(settings(), settings({ pythonPath: '/usr/bin/python3' }))).toBe(true);
    expect(needsRestart(settings(), settings({ verbose: true }))).toBe(true);
    expect(needsRestart(settings(), settings({ logFile: '/tmp/hc.log' }))).toBe(true);
    expect(needsRestart(settings(), settings({ model: 'x', contextBudget: 5, languages: {} }))).toBe(false);
  });

  it('knows exactly the sections of the server\'s Settings (housecoder/config.py)', () => {
    const config = readFileSync(join(__dirname, '..', '..', 'housecoder', 'config.py'), 'utf8');
    const body = /^class Settings\b[^\n]*\n((?:[ \t]+[^\n]*\n|\n)*)/m.exec(config)?.[1] ?? '';
    const sections = [...body.matchAll(/^ {4}(\w+): \w+Config = /gm)].map((m) => m[1]);
    expect([...SERVER_SECTIONS].sort()).toEqual(sections.sort());
  });
});
