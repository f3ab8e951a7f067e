/**
 * The one error type of `heat/config`. Its message is a single line that says what is wrong and
 * what to do ("FILE:LINE: ...; fix the file"). It never contains a password: values of secret
 * options are not quoted, and URLs are masked.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
