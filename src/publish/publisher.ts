// The Publisher interface: how Postfix learns the current grants (a built map, or live answers).
export interface Publisher {
  readonly name: string;
  /** Checks the setup (fails with the fix) and publishes the current grants. */
  start(): Promise<void>;
  /** The grants changed: publish soon. Calls are coalesced. */
  changed(): void;
  /** Resolves when nothing is pending (tests, shutdown). */
  settled(): Promise<void>;
  stop(): Promise<void>;
}
