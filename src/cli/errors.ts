/**
 * A problem with what the user gave us (arguments, files, bytes). The CLI prints its message as
 * one line on stderr and exits with `exitCode` (2: bad input), never a stack trace.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
