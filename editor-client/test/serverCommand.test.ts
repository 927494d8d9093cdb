import { describe, expect, it } from 'vitest';

import { displayCommand, expandPath, findOnPath, LaunchError, serveCommand, trainCommand, type Environment } from '../src/core/serverCommand';
import { DEFAULT_SETTINGS, type ExtensionSettings } from '../src/core/settings';

function env(executables: string[], overrides: Partial<Environment> = {}): Environment {
  const files = new Set(executables);
  return {
    path: '/usr/local/bin:/usr/bin', platform: 'linux', home: '/home/ada', workspaceFolder: '/work/shop',
    isExecutable: (file) => files.has(file), ...overrides,
  };
}

function settings(overrides: Partial<ExtensionSettings> = {}): ExtensionSettings {
  return { ...DEFAULT_SETTINGS, ...overrides };
}

describe('serveCommand', () => {
  it('runs the housecoder executable found on PATH', () => {
    expect(serveCommand(settings(), env(['/usr/bin/housecoder']))).toEqual({ command: '/usr/bin/housecoder', args: ['serve'] });
  });

  it('takes the first PATH entry that has it', () => {
    const found = serveCommand(settings(), env(['/usr/bin/housecoder', '/usr/local/bin/housecoder']));
    expect(found.command).toBe('/usr/local/bin/housecoder');
  });

  it('runs python -m housecoder with a configured interpreter, expanding ${workspaceFolder}', () => {
    const line = serveCommand(settings({ pythonPath: '${workspaceFolder}/.venv/bin/python' }), env(['/work/shop/.venv/bin/python']));
    expect(line).toEqual({ command: '/work/shop/.venv/bin/python', args: ['-m', 'housecoder', 'serve'] });
  });

  it('looks a bare interpreter name up on PATH', () => {
    const line = serveCommand(settings({ pythonPath: 'python3' }), env(['/usr/bin/python3']));
    expect(line).toEqual({ command: '/usr/bin/python3', args: ['-m', 'housecoder', 'serve'] });
  });

  it('puts -v before the subcommand and --log-file after it', () => {
    const line = serveCommand(settings({ verbose: true, logFile: '~/hc.log', pythonPath: '/py' }), env(['/py']));
    expect(line.args).toEqual(['-m', 'housecoder', '-v', 'serve', '--log-file', '/home/ada/hc.log']);
  });

  it('uses an executable given as a path', () => {
    expect(serveCommand(settings({ executable: '~/bin/housecoder' }), env(['/home/ada/bin/housecoder'])).command)
      .toBe('/home/ada/bin/housecoder');
  });

  it('says which setting to change when nothing can be started', () => {
    expect(() => serveCommand(settings(), env([]))).toThrow(LaunchError);
    expect(() => serveCommand(settings(), env([]))).toThrow(/not on PATH.*housecoder\.pythonPath/);
    expect(() => serveCommand(settings({ pythonPath: '/nope/python' }), env([]))).toThrow(/housecoder\.pythonPath: \/nope\/python/);
    expect(() => serveCommand(settings({ executable: './hc' }), env([]))).toThrow(/housecoder\.executable/);
  });

  it('finds housecoder.exe through PATHEXT on Windows', () => {
    const windows = env(['C:\\venv\\Scripts\\housecoder.EXE'], { platform: 'win32', path: 'C:\\Windows;C:\\venv\\Scripts', pathext: '.COM;.EXE' });
    expect(serveCommand(settings(), windows)).toEqual({ command: 'C:\\venv\\Scripts\\housecoder.EXE', args: ['serve'] });
  });
});

describe('trainCommand', () => {
  it('trains on one folder with the same launcher', () => {
    expect(trainCommand(settings({ pythonPath: '/py' }), env(['/py']), '/work/shop'))
      .toEqual({ command: '/py', args: ['-m', 'housecoder', '-C', '/work/shop', 'train'] });
    expect(trainCommand(settings(), env(['/usr/bin/housecoder']), '/work/shop'))
      .toEqual({ command: '/usr/bin/housecoder', args: ['-C', '/work/shop', 'train'] });
  });
});

describe('helpers', () => {
  it('expands ~ and ${userHome} but refuses ${workspaceFolder} without a folder', () => {
    expect(expandPath('~', env([]))).toBe('/home/ada');
    expect(expandPath('${userHome}/x', env([]))).toBe('/home/ada/x');
    expect(() => expandPath('${workspaceFolder}/py', env([], { workspaceFolder: undefined }))).toThrow(LaunchError);
  });

  it('skips empty PATH entries', () => {
    expect(findOnPath('housecoder', env(['housecoder'], { path: ':/usr/bin' }))).toBeUndefined();
  });

  it('quotes words with spaces for display', () => {
    expect(displayCommand({ command: '/opt/my tools/python', args: ['-m', 'housecoder', "it's"] }))
      .toBe(`'/opt/my tools/python' -m housecoder 'it'\\''s'`);
  });
});
