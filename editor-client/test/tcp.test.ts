import { describe, expect, it } from 'vitest';

import { parseAddress, tokenOf, tokenPath } from '../src/core/tcp';

describe('parseAddress', () => {
  it('reads host:port, [v6]:port and a bare port', () => {
    expect(parseAddress('127.0.0.1:2087')).toEqual({ host: '127.0.0.1', port: 2087 });
    expect(parseAddress(' gpu-box.lan:9000 ')).toEqual({ host: 'gpu-box.lan', port: 9000 });
    expect(parseAddress('[::1]:2087')).toEqual({ host: '::1', port: 2087 });
    expect(parseAddress('2087')).toEqual({ host: '127.0.0.1', port: 2087 });
    expect(parseAddress(':2087')).toEqual({ host: '127.0.0.1', port: 2087 });
  });

  it.each(['', 'localhost', 'host:0', 'host:65536', 'host:port', 'http://host:2087', 'a b:1'])(
    'refuses %j in one line naming the setting',
    (text) => {
      expect(() => parseAddress(text)).toThrow(/^housecoder\.serverAddress ".*": give host:port/);
    },
  );
});

describe('tokenPath', () => {
  it('is where the server keeps it: $XDG_CONFIG_HOME, else ~/.config', () => {
    expect(tokenPath({ tokenFile: '', home: '/home/u', xdgConfigHome: '/x/conf' })).toBe('/x/conf/housecoder/server-token');
    expect(tokenPath({ tokenFile: '', home: '/home/u', xdgConfigHome: undefined })).toBe('/home/u/.config/housecoder/server-token');
    expect(tokenPath({ tokenFile: '', home: '/home/u', xdgConfigHome: 'relative' })).toBe('/home/u/.config/housecoder/server-token');
  });

  it('takes the setting, with ~ expanded', () => {
    expect(tokenPath({ tokenFile: '~/team/token', home: '/home/u', xdgConfigHome: '/x' })).toBe('/home/u/team/token');
    expect(tokenPath({ tokenFile: '/etc/hc/token', home: '/home/u', xdgConfigHome: '/x' })).toBe('/etc/hc/token');
  });
});

describe('tokenOf', () => {
  it('is the first line of the file', () => {
    expect(tokenOf('abc123\n', '/t')).toBe('abc123');
    expect(tokenOf('abc123\r\nrest', '/t')).toBe('abc123');
  });

  it.each([undefined, '', '\n\n'])('says how to make one when there is none (%j)', (text) => {
    expect(() => tokenOf(text, '/home/u/.config/housecoder/server-token')).toThrow(
      'no server token in /home/u/.config/housecoder/server-token (`housecoder token` makes it)',
    );
  });
});
