import { pino, type DestinationStream, type Logger } from 'pino';

const NINE_DIGITS = /(?<!\d)\d{9}(?!\d)/g;

/** Masks anything that could be a BSN; logs are a second line of defence, not the first. */
export function scrub(text: string): string {
  return text.replace(NINE_DIGITS, '*********');
}

/**
 * Structured JSON logs. Every string that reaches the output is scrubbed of nine-digit numbers,
 * and an error's stack goes to the log only (never to the client).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'betrokken' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        streamWrite: (line) => scrub(line),
      },
    },
    destination,
  );
}
