/** The store cannot be opened (another serve holds it, an unknown schema, or the folder is not usable). */
export class StoreError extends Error {
  override name = 'StoreError';
}
