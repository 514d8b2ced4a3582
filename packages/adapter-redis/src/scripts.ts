import { hash } from 'node:crypto';
import type { CommandArguments, Send } from './client.js';
import { HEADER_BYTES, TAG_BYTES } from './header.js';

/** A Lua script run by its SHA-1 (`EVALSHA`), loaded with `EVAL` where Redis lacks it. */
class Script {
  private readonly sha: string;

  constructor(
    private readonly source: string,
    private readonly readonly: boolean,
  ) {
    this.sha = hash('sha1', source, 'hex');
  }

  run(send: Send, redisKey: string, ...args: CommandArguments): Promise<unknown> {
    return send(redisKey, this.readonly, ['EVALSHA', this.sha, '1', redisKey, ...args]).catch(
      (error: unknown) => {
        // A restarted server, or a cluster node that never ran the script.
        if (!/^NOSCRIPT/.test((error as Error)?.message ?? '')) throw error;
        return send(redisKey, this.readonly, ['EVAL', this.source, '1', redisKey, ...args]);
      },
    );
  }
}

// Replies nil (missing) or `{stored size, header}`: the value never leaves Redis.
export const STAT = new Script(
  `
local size = redis.call('STRLEN', KEYS[1])
if size == 0 and redis.call('EXISTS', KEYS[1]) == 0 then return false end
return {size, redis.call('GETRANGE', KEYS[1], 0, ${HEADER_BYTES - 1})}
`,
  true,
);

// Whether the value's header holds an expiry at or before ARGV[n] (ms): a value without
// a header or without an expiry has none.
const expiredBy = (argument: number) => `
local function expired_by(limit)
  local header = redis.call('GETRANGE', KEYS[1], ${TAG_BYTES}, ${HEADER_BYTES - 1})
  if #header < 8 then return false end
  local expires_at = struct.unpack('>d', header)
  return expires_at >= 0 and expires_at <= tonumber(limit)
end
local limit = ARGV[${argument}]`;

// Moves the expiry Redis enforces and the one in the header together; with a tag in
// ARGV[3], only while the value still carries it; with a time in ARGV[4], only while the
// header's expiry is after it (never bringing an expired value back). 1 moved, 0 not. (An
// expiry in the past deletes the key: the header is then left alone, or SETRANGE would
// create it again.)
export const TOUCH = new Script(
  `${expiredBy(4)}
if ARGV[3] ~= '' and redis.call('GETRANGE', KEYS[1], 0, ${TAG_BYTES - 1}) ~= ARGV[3] then return 0 end
if limit ~= '' and expired_by(limit) then return 0 end
if redis.call('PEXPIREAT', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('STRLEN', KEYS[1]) >= ${HEADER_BYTES} then redis.call('SETRANGE', KEYS[1], ${TAG_BYTES}, ARGV[2]) end
return 1
`,
  false,
);

// Deletes the value only while it carries the tag in ARGV[1] (if any) and its header's
// expiry is at or before ARGV[2] (if any), in one step. 1 deleted, 0 not.
export const DELETE_IF = new Script(
  `${expiredBy(2)}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] ~= '' and redis.call('GETRANGE', KEYS[1], 0, ${TAG_BYTES - 1}) ~= ARGV[1] then return 0 end
if limit ~= '' and not expired_by(limit) then return 0 end
return redis.call('DEL', KEYS[1])
`,
  false,
);

// Writes ARGV[2] (header and data) with the expiry ARGV[3] (ms; '' for none) only while
// the value carries the tag in ARGV[1], in one step: a missing value carries none. 1
// written, 0 not.
export const REPLACE_IF = new Script(
  `
if redis.call('GETRANGE', KEYS[1], 0, ${TAG_BYTES - 1}) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2])
else redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3]) end
return 1
`,
  false,
);

// Adds ARGV[1] to the owner set KEYS[1], and keeps the set's expiry at the latest one an
// add ever gave (ARGV[2], ms), or at none once an add gave none (''), so that the set
// outlives every session it lists. PEXPIREAT GT alone would not do: Redis counts a set
// without expiry, as SADD creates one, as expiring never, and GT would leave it so.
export const ADD_OWNED = new Script(
  `
local created = redis.call('EXISTS', KEYS[1]) == 0
redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[2] == '' then redis.call('PERSIST', KEYS[1])
elseif created then redis.call('PEXPIREAT', KEYS[1], ARGV[2])
else redis.call('PEXPIREAT', KEYS[1], ARGV[2], 'GT') end
`,
  false,
);
