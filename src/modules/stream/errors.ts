import { DomainError } from '../../shared/errors.js';

/** The server is shutting down: no new stream is opened (503). */
export class StreamsClosingError extends DomainError {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor() {
    super('the server is shutting down: connect again to another instance', { retry_after_seconds: '1' });
  }
}

/** A plain GET of the WebSocket route: it only answers an upgrade (426). */
export class UpgradeRequiredError extends DomainError {
  readonly code = 'UPGRADE_REQUIRED';
  constructor() {
    super('this route is a WebSocket: connect with Upgrade: websocket (or use /api/v1/stream/sse)');
  }
}
