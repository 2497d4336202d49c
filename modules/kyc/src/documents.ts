/**
 * Identity and proof-of-address documents: the type is what the bytes are (magic bytes), never what
 * the client says; the SHA-256 of the upload is recorded; the bytes go to the object store encrypted
 * under the player's data key (erasing the player makes them unreadable). Reviewers may read them,
 * and every read is audited.
 */
import { fileTypeFromBuffer } from 'file-type';
import { DomainError, ObjectIntegrityError, Problems, uuidv7, type AuditLog, type Config, type Db, type EventPublisher, type ObjectStore } from '@verity/kernel';
import { DOCUMENT_UPLOADED_V1, type DocumentDto, type DocumentUploadedV1Data } from './contracts.ts';
import { DOCUMENT_CONTENT_TYPES, type DocumentContentType, type DocumentType } from './domain/requirements.ts';
import type { DocumentRow, KycRepository } from './repository.ts';

export interface DocumentDeps {
  db: Db;
  config: Config;
  repo: KycRepository;
  objects: ObjectStore;
  events: EventPublisher;
  audit: AuditLog;
}

export const documentView = (d: DocumentRow): DocumentDto => ({
  documentId: d.id,
  type: d.type,
  contentType: d.contentType,
  sizeBytes: d.sizeBytes,
  sha256: d.sha256,
  uploadedAt: d.uploadedAt.toISOString(),
});

const unsupportedType = (detected: string | undefined) =>
  new DomainError(
    'document-type-unsupported',
    415,
    'Unsupported document type',
    `Upload a JPEG, PNG or PDF file. ${detected ? `This file is ${detected}` : 'The type of this file could not be recognised'}, whatever its name says.`,
    { accepted: [...DOCUMENT_CONTENT_TYPES] },
  );

const tooMany = (max: number) => new DomainError('kyc-document-limit', 409, 'Too many documents', `An account may hold at most ${max} verification documents. Contact support if you need to send more.`);
const refused = () => new DomainError('kyc-refused', 409, 'Verification refused', 'Your verification was refused for good; documents can no longer be uploaded.');

export function createDocuments(deps: DocumentDeps) {
  const { db, repo, config } = deps;

  async function upload(playerId: string, type: DocumentType, bytes: Buffer): Promise<DocumentDto> {
    if (bytes.length === 0) throw Problems.validation([{ pointer: '/body', detail: 'is empty: send the file\'s bytes' }]);
    if (bytes.length > config.kycDocumentMaxBytes) throw Problems.payloadTooLarge(config.kycDocumentMaxBytes);
    const detected = await fileTypeFromBuffer(bytes);
    if (!detected || !(DOCUMENT_CONTENT_TYPES as readonly string[]).includes(detected.mime)) throw unsupportedType(detected?.mime);
    const { row: app } = await repo.ensureApplication(uuidv7(), playerId);
    if (app.status === 'rejected_final') throw refused();
    if ((await repo.documentCount(playerId)) >= config.kycDocumentsPerPlayerMax) throw tooMany(config.kycDocumentsPerPlayerMax);
    const stored = await deps.objects.put(bytes, { contentType: detected.mime, encryptFor: playerId });
    return db.tx(async () => {
      // Counted again under the application's lock: concurrent uploads cannot pass the limit together.
      await repo.application(app.id, true);
      if ((await repo.documentCount(playerId)) >= config.kycDocumentsPerPlayerMax) throw tooMany(config.kycDocumentsPerPlayerMax);
      const doc = await repo.insertDocument({
        id: uuidv7(),
        playerId,
        applicationId: app.id,
        type,
        contentType: detected.mime as DocumentContentType,
        sizeBytes: bytes.length,
        sha256: stored.sha256,
        objectKey: stored.key,
      });
      const data: DocumentUploadedV1Data = { playerId, documentId: doc.id, type, uploadedAt: doc.uploadedAt.toISOString() };
      await deps.events.publish({ type: DOCUMENT_UPLOADED_V1, subject: playerId, data });
      await deps.audit.record({ actor: `player:${playerId}`, action: 'kyc.document-uploaded', subject: `player:${playerId}`, data: { documentId: doc.id, type, contentType: doc.contentType, sizeBytes: doc.sizeBytes, sha256: doc.sha256 } });
      return documentView(doc);
    });
  }

  async function list(playerId: string): Promise<DocumentDto[]> {
    return (await repo.documents(playerId)).map(documentView);
  }

  /** A reviewer reads a document: decrypted, its hash checked against the one recorded, the read audited. */
  async function read(documentId: string, actor: string): Promise<{ doc: DocumentRow; bytes: Buffer }> {
    const doc = await repo.document(documentId);
    if (!doc) throw Problems.notFound('document');
    const object = await deps.objects.get(doc.objectKey, { subjectId: doc.playerId });
    if (object.sha256 !== doc.sha256) throw new ObjectIntegrityError(`document ${doc.id} does not match its recorded SHA-256`);
    await deps.audit.record({ actor, action: 'kyc.document-viewed', subject: `player:${doc.playerId}`, data: { documentId: doc.id, type: doc.type, sha256: doc.sha256 } });
    return { doc, bytes: object.bytes };
  }

  return { upload, list, read };
}

export type Documents = ReturnType<typeof createDocuments>;
