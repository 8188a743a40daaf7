import bcrypt from 'bcryptjs';

/** bcrypt cost: 2^10 rounds, ≈ 70 ms per hash on this machine (bcryptjs, pure JavaScript, no native build). */
const BCRYPT_COST = 10;

/** A valid hash of a random password: compared against when the username is unknown, so a login
 *  takes as long for a missing user as for a wrong password (no username enumeration by timing). */
const DUMMY_HASH_PROMISE = bcrypt.hash('paperbroker-no-such-user', BCRYPT_COST);

/** bcrypt hash of a password (at most 72 bytes: bcrypt ignores the rest, so longer ones are refused upstream). */
export async function hashPassword(password: string): Promise<string> {
  return await bcrypt.hash(password, BCRYPT_COST);
}

/** True when `password` matches `passwordHash`; with no hash, spends the same time and answers false. */
export async function verifyPassword(password: string, passwordHash: string | undefined): Promise<boolean> {
  if (!passwordHash) {
    await bcrypt.compare(password, await DUMMY_HASH_PROMISE);
    return false;
  }
  return await bcrypt.compare(password, passwordHash);
}
