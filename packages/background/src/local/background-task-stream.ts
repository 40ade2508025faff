import type { BackgroundTaskStream } from "@lash/protocol";
import { Observable } from "rxjs";

/**
 * An rxjs `Observable` over any host's event stream (a host typed only as `BackgroundTaskHost`
 * returns the protocol's minimal stream type), so callers can pipe operators onto it.
 */
export function fromBackgroundTaskStream<Item>(stream: Observable<Item> | BackgroundTaskStream<Item>): Observable<Item> {
  if (stream instanceof Observable) return stream;
  return new Observable<Item>((subscriber) => {
    const subscription = stream.subscribe({
      next: (item) => subscriber.next(item),
      error: (error) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    return () => subscription.unsubscribe();
  });
}
