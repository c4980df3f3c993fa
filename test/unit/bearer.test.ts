import { describe, expect, it } from '@jest/globals';
import { MAX_TOKEN_LENGTH, parseAuthorization } from '../../src/auth/bearer.js';

describe('parseAuthorization', () => {
  it.each([
    ['Bearer abc.def-ghi_jkl~mno+pqr/stu==', 'abc.def-ghi_jkl~mno+pqr/stu=='],
    ['bearer token', 'token'],
    ['BEARER token', 'token'],
    ['Bearer   spaced', 'spaced'],
    ['Bearer trailing ', 'trailing'],
  ])('should accept %j', (header, token) => {
    expect(parseAuthorization(header)).toEqual({ kind: 'token', token });
  });

  it.each([undefined, ''])('should report no credential for %j', (header) => {
    expect(parseAuthorization(header)).toEqual({ kind: 'none' });
  });

  it.each([
    'Bearer',
    'Bearer ',
    'Bearertoken',
    'Basic dXNlcjpwYXNz',
    'Token abc',
    'Bearer a b',
    'Bearer a\tb',
    'Bearer a\u0000b',
    'Bearer ab=c',
    'Bearer é',
    ' Bearer abc',
  ])('should report a malformed credential for %j', (header) => {
    expect(parseAuthorization(header)).toEqual({ kind: 'malformed' });
  });

  it('should refuse several Authorization headers', () => {
    expect(parseAuthorization(['Bearer a', 'Bearer b'])).toEqual({ kind: 'malformed' });
  });

  it('should refuse a token one character over the maximum length', () => {
    expect(parseAuthorization(`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`)).toEqual({ kind: 'malformed' });
    expect(parseAuthorization(`Bearer ${'a'.repeat(MAX_TOKEN_LENGTH * 4)}`)).toEqual({ kind: 'malformed' });
  });

  it('should accept a token of exactly the maximum length', () => {
    const token = 'a'.repeat(MAX_TOKEN_LENGTH);
    expect(parseAuthorization(`Bearer ${token}`)).toEqual({ kind: 'token', token });
  });
});
