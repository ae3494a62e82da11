/** A started bot or worker: stopping it finishes work in hand and takes no more. */
export interface RunningProcess {
  stop(): Promise<void>;
  /** SIGHUP: re-read configuration (workflows; CA keys in the worker). */
  reload(): Promise<void>;
}
