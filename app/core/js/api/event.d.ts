export interface Event<T = unknown> {
  /** The event's name. */
  event: string;
  payload: T;
  /** Label of the window that emitted it, or null when Python did. */
  source: string | null;
  /** The id of the handler receiving it. */
  id: number;
}

export type EventCallback<T = unknown> = (event: Event<T>) => void;
export type UnlistenFn = () => void;

/** Receive an event until the returned function is called. */
export declare function listen<T = unknown>(
  event: string,
  handler: EventCallback<T>,
): Promise<UnlistenFn>;

/** Receive an event once. */
export declare function once<T = unknown>(
  event: string,
  handler: EventCallback<T>,
): Promise<UnlistenFn>;

/** Send an event to Python listeners and to every window that listens. */
export declare function emit(event: string, payload?: unknown): Promise<void>;

/** Send an event to the listeners of one window. */
export declare function emitTo(target: string, event: string, payload?: unknown): Promise<void>;
