/**
 * Silences process.stdout and process.stderr (Powertools writes JSON log lines there) and keeps what
 * was written in `into`, so a test can assert on the logs, and that no secret reaches them.
 * Returns the function that restores both streams.
 */
export function captureOutput(into: string[] = []): () => void {
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      into.push(String(chunk));
      return true;
    }),
  );
  return () => spies.forEach((spy) => spy.mockRestore());
}
