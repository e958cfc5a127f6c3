/**
 * The audit log of control actions (src/core/audit-log.ts). It lives in core because the producer
 * lib, which may import only core and contracts, records its own cancels in the same log.
 */
export { audit, auditKey, readAudit, AUDIT_MAX, type AuditEntry, type AuditInput, type ReadAuditOptions } from '../core/audit-log.ts';
