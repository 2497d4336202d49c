/**
 * Field-level envelope encryption of personal data (ARCHITECTURE §3). Each subject (a player) has
 * its own data key, wrapped by the master key (local file or KMS). Erasure = destroy the data key.
 */
export interface FieldCrypto {
  /** Encrypts `plaintext` under the data key of `subjectId` (created on first use). */
  encrypt(subjectId: string, plaintext: string): Promise<string>;
  decrypt(subjectId: string, ciphertext: string): Promise<string>;
  /** Keyed hash (HMAC-SHA256 with a purpose-bound key) for equality search without the value. */
  keyedHash(purpose: string, value: string): string;
  /** Destroys the subject's data key: everything encrypted under it becomes unreadable. */
  destroySubjectKey(subjectId: string): Promise<void>;
}
