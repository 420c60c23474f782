import { afterEach, describe, expect, it } from 'vitest';
import { authHeaders, credentialFromText, getCredential, signOut, takeTokenFromFragment } from './session';

describe('session', () => {
  afterEach(() => {
    signOut();
    window.history.replaceState(null, '', '/');
  });

  it('/#token= signs in, and the fragment leaves the address bar and history at once', () => {
    window.history.replaceState(
      null,
      '',
      '/runs/7d3e2a10-5c4b-4f6e-9a8d-1b2c3d4e5f60?hasError=true#token=abc.def.ghi',
    );
    const before = window.history.length;
    expect(takeTokenFromFragment()).toBe(true);
    expect(window.location.hash).toBe('');
    expect(window.location.pathname + window.location.search).toBe(
      '/runs/7d3e2a10-5c4b-4f6e-9a8d-1b2c3d4e5f60?hasError=true',
    );
    expect(window.history.length).toBe(before);
    expect(getCredential()).toEqual({ kind: 'bearer', token: 'abc.def.ghi', source: 'link' });
  });

  it('keeps the credential in sessionStorage, never localStorage', () => {
    window.history.replaceState(null, '', '/#token=abc.def.ghi');
    takeTokenFromFragment();
    expect(sessionStorage.getItem('run-viewer.credential')).toContain('abc.def.ghi');
    expect(Object.keys(localStorage)).toEqual([]);
    signOut();
    expect(sessionStorage.getItem('run-viewer.credential')).toBeNull();
  });

  it('leaves other fragments alone', () => {
    window.history.replaceState(null, '', '/#section');
    expect(takeTokenFromFragment()).toBe(false);
    expect(window.location.hash).toBe('#section');
    expect(getCredential()).toBeNull();
  });

  it('tells an API key from a bearer token, and sends each in its header', () => {
    const key = credentialFromText('  eik_ABCdef0123456789ABCdef0123456789ABCdef01 ');
    expect(authHeaders(key)).toEqual({ 'X-API-Key': 'eik_ABCdef0123456789ABCdef0123456789ABCdef01' });
    const bearer = credentialFromText('Bearer eyJ.a.b');
    expect(authHeaders(bearer)).toEqual({ Authorization: 'Bearer eyJ.a.b' });
    expect(credentialFromText('   ')).toBeNull();
  });
});
