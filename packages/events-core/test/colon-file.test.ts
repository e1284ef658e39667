import { describe, expect, it } from 'vitest';
import { eachLine, field, fieldIs, findLine, listsMember } from '../src/identity/colon-file.js';

const GROUP = [
  '# local groups',
  'root:x:0:',
  '',
  'ds01-admin:x:900:carol,dave',
  'lab:x:1000:bob,alice2,alice',
  'alice2:x:1002:',
  'short:x',
  'shared:x:1003:alice',
].join('\n');

/** Every entry line's `n`th field, through eachLine and field. */
const column = (text: string, n: number) => {
  const out: string[] = [];
  eachLine(text, (start, end) => {
    out.push(field(text, start, end, n));
    return false;
  });
  return out;
};

describe('colon-file', () => {
  it('visits entry lines only: no comments, no blank lines, the last line without a newline', () => {
    expect(column(GROUP, 0)).toEqual(['root', 'ds01-admin', 'lab', 'alice2', 'short', 'shared']);
    expect(column(GROUP, 2)).toEqual(['0', '900', '1000', '1002', '', '1003']);
  });

  it('stops when the visitor says so', () => {
    const seen: string[] = [];
    eachLine(GROUP, (start, end) => {
      seen.push(field(GROUP, start, end, 0));
      return seen.length === 2;
    });
    expect(seen).toEqual(['root', 'ds01-admin']);
  });

  it('finds the line whose field is exactly the value, split into fields', () => {
    expect(findLine(GROUP, 0, 'lab')).toEqual(['lab', 'x', '1000', 'bob,alice2,alice']);
    expect(findLine(GROUP, 2, '1002')).toEqual(['alice2', 'x', '1002', '']);
    // Neither a prefix nor a longer name matches.
    expect(findLine(GROUP, 0, 'la')).toBeUndefined();
    expect(findLine(GROUP, 0, 'alice')).toBeUndefined();
    expect(findLine(GROUP, 2, '100')).toBeUndefined();
    // A line with too few fields has no such field.
    expect(findLine(GROUP, 2, '')).toBeUndefined();
  });

  it('compares one field without splitting the line', () => {
    const lines: [number, number][] = [];
    eachLine(GROUP, (start, end) => {
      lines.push([start, end]);
      return false;
    });
    const [root, , lab] = lines;
    expect(fieldIs(GROUP, ...root!, 0, 'root')).toBe(true);
    expect(fieldIs(GROUP, ...root!, 3, '')).toBe(true);
    expect(fieldIs(GROUP, ...lab!, 2, '1000')).toBe(true);
    expect(fieldIs(GROUP, ...lab!, 2, '10000')).toBe(false);
    expect(fieldIs(GROUP, ...lab!, 4, '')).toBe(false);
  });

  it('reads member lists item by item', () => {
    const membersOf = (user: string) => {
      const groups: string[] = [];
      eachLine(GROUP, (start, end) => {
        if (listsMember(GROUP, start, end, user)) groups.push(field(GROUP, start, end, 0));
        return false;
      });
      return groups;
    };
    expect(membersOf('alice')).toEqual(['lab', 'shared']);
    expect(membersOf('alice2')).toEqual(['lab']);
    expect(membersOf('ali')).toEqual([]);
    expect(membersOf('carol')).toEqual(['ds01-admin']);
    expect(membersOf('dave')).toEqual(['ds01-admin']);
    expect(membersOf('x')).toEqual([]);
  });
});
