import { AppError, Permission } from '@atrium/contracts';
import { checkWithinGrantorTime } from './grants.service';

const HOUR = 3_600_000;
const at = (hours: number) => new Date(Date.UTC(2030, 0, 1) + hours * HOUR);
const until = at(10);
const terms = (permissions: Permission[], expiresAt: Date | null = null, notBefore: Date | null = null) => ({
  permissions,
  expiresAt,
  notBefore,
});
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return (err as AppError).message;
  }
  throw new Error('not refused');
};

describe('a grantor whose power to give grants ends gives nothing that lasts past then', () => {
  it('gives anything in time when its power does not end', () => {
    expect(checkWithinGrantorTime(null, terms(['READ']), null, {})).toBeNull();
    expect(checkWithinGrantorTime(null, terms(['READ']), terms(['READ'], at(1)), {})).toBeNull();
  });

  it('makes a new grant expire by then: taking that time when none is asked (absent or null), refusing a later one', () => {
    expect(checkWithinGrantorTime(until, terms(['READ']), null, {})).toEqual(until);
    expect(
      checkWithinGrantorTime(until, terms(['READ'], at(5)), null, { expiresAt: at(5).toISOString() }),
    ).toEqual(at(5));
    expect(
      checkWithinGrantorTime(until, terms(['READ'], until), null, { expiresAt: until.toISOString() }),
    ).toEqual(until);
    expect(
      refusal(() =>
        checkWithinGrantorTime(until, terms(['READ'], at(11)), null, { expiresAt: at(11).toISOString() }),
      ),
    ).toMatch(/ends at 2030-01-01T10:00:00.000Z.*body\.expiresAt/);
    expect(checkWithinGrantorTime(until, terms(['READ']), null, { expiresAt: null })).toEqual(until);
    expect(refusal(() => checkWithinGrantorTime(until, terms(['READ'], null, at(10)), null, {}))).toMatch(
      /body\.notBefore/,
    );
  });

  it('lets a change past then narrow, shorten or delay, but not add, lengthen or bring forward', () => {
    const before = terms(['READ', 'WRITE'], at(20), at(12));
    const change = (after: ReturnType<typeof terms>) => () =>
      checkWithinGrantorTime(until, after, before, {});
    expect(change(terms(['READ'], at(20), at(12)))()).toEqual(at(20));
    expect(change(terms(['READ', 'WRITE'], at(15), at(12)))()).toEqual(at(15));
    expect(change(terms(['READ', 'WRITE'], at(20), at(14)))()).toEqual(at(20));
    // Within its own time, anything it holds.
    expect(change(terms(['READ', 'WRITE', 'MANAGE_ACCESS'], at(9)))()).toEqual(at(9));
    expect(refusal(change(terms(['READ', 'WRITE', 'MANAGE_ACCESS'], at(20), at(12))))).toMatch(
      /body\.permissions/,
    );
    expect(refusal(change(terms(['READ', 'WRITE'], at(21), at(12))))).toMatch(/body\.expiresAt/);
    expect(refusal(change(terms(['READ', 'WRITE'], null, at(12))))).toMatch(/body\.expiresAt/);
    expect(refusal(change(terms(['READ', 'WRITE'], at(20), at(11))))).toMatch(/body\.notBefore/);
    expect(refusal(change(terms(['READ', 'WRITE'], at(20), null)))).toMatch(/body\.notBefore/);
  });

  it('keeps a grantee from extending its own grant: no expiry asked keeps it as it is', () => {
    const own = terms(['READ', 'MANAGE_ACCESS'], until);
    expect(
      refusal(() => checkWithinGrantorTime(until, terms(['READ', 'MANAGE_ACCESS'], at(11)), own, {})),
    ).toMatch(/body\.expiresAt/);
    expect(checkWithinGrantorTime(until, terms(['READ', 'MANAGE_ACCESS']), own, { expiresAt: null })).toEqual(
      until,
    );
    expect(checkWithinGrantorTime(until, terms(['READ'], until), own, {})).toEqual(until);
  });

  it('gives a changed grant asked for no expiry the longest it may: its later expiry kept, else then', () => {
    expect(
      checkWithinGrantorTime(until, terms(['READ']), terms(['READ'], at(20)), { expiresAt: null }),
    ).toEqual(at(20));
    expect(
      checkWithinGrantorTime(until, terms(['READ']), terms(['READ'], at(5)), { expiresAt: null }),
    ).toEqual(until);
    expect(checkWithinGrantorTime(until, terms(['READ']), terms(['READ']), { expiresAt: null })).toBeNull();
    // Adding to a grant that lasts past then: refused, however it is asked.
    expect(
      refusal(() =>
        checkWithinGrantorTime(until, terms(['READ', 'WRITE']), terms(['READ'], at(20)), { expiresAt: null }),
      ),
    ).toMatch(/body\.permissions/);
  });

  it('counts what a permission implies as held: WRITE over READ adds nothing new past then', () => {
    const before = terms(['WRITE'], at(20));
    expect(checkWithinGrantorTime(until, terms(['READ', 'WRITE'], at(20)), before, {})).toEqual(at(20));
  });
});
