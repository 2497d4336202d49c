import { v7 } from 'uuid';
/** Time-ordered ids (ARCHITECTURE §3). */
export const uuidv7 = (): string => v7();
