import { invalid } from './errors.ts';

/**
 * Opaque cursors over time-ordered ids of one kind (`sig`, `ntc`): the last id of a page, base64url
 * encoded. A cursor that does not decode to such an id is refused, never passed to a query.
 */
export function idCursor(prefix: 'sig' | 'ntc') {
  const shape = new RegExp(`^${prefix}_[0-9a-z]{26}$`);
  return {
    encode: (id: string) => Buffer.from(id, 'utf8').toString('base64url'),
    decode: (cursor: string): string => {
      const id = Buffer.from(cursor, 'base64url').toString('utf8');
      if (!shape.test(id)) throw invalid('invalid_cursor', 'the cursor is not one this service gave out');
      return id;
    },
  };
}
