import { Logger } from '@nestjs/common';
import { MESSAGE_SCHEMA_VERSION, parseSchemaVersion, schemaCompatibility } from '@atrium/contracts';

/**
 * Schema versions on the wire (the rule: libs/contracts/src/schema-version.ts). Events carry the
 * version in their envelope; RPC requests over RabbitMQ in this header. In-process RPC carries
 * none: caller and handler are one process, so one release.
 */
export const SCHEMA_VERSION_HEADER = 'x-atrium-schema-version';

/** The headers every RPC request sends. */
export function schemaVersionHeaders(): Record<string, string> {
  return { [SCHEMA_VERSION_HEADER]: MESSAGE_SCHEMA_VERSION };
}

const logger = new Logger('SchemaVersion');
/** What was already logged, per message name and version (bounded: versions are few). */
const noted = new Set<string>();
const MAX_NOTED = 1000;

/**
 * Notes the version a message came with. It is read (tolerantly) whatever its version: a message
 * from a release one major apart is expected during an upgrade (logged once); one further apart
 * breaks the upgrade rule (a release skipped) and is logged once as a warning.
 */
export function noteSchemaVersion(kind: 'RPC' | 'event', name: string, version: unknown): void {
  const compatibility = schemaCompatibility(version);
  if (compatibility === 'current' || compatibility === 'unversioned') return;
  const key = `${kind} ${name} ${String(version)}`;
  if (noted.has(key) || noted.size >= MAX_NOTED) return;
  noted.add(key);
  const theirs = parseSchemaVersion(version)!;
  if (compatibility === 'compatible') {
    logger.log(
      `Reading ${kind} ${name} of schema ${String(version)} (this release: ${MESSAGE_SCHEMA_VERSION}) tolerantly: a rolling upgrade is under way`,
    );
  } else {
    logger.warn(
      `${kind} ${name} has schema ${theirs.major}.${theirs.minor}, more than one major from this release's ${MESSAGE_SCHEMA_VERSION}: ` +
        'read tolerantly, but releases must be deployed one after the other (README, "Rolling upgrades")',
    );
  }
}

/** For tests: forget what was logged. */
export function resetSchemaVersionNotes(): void {
  noted.clear();
}
