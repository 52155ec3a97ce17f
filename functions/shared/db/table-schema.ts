/**
 * The single table's shape, declared once: the CDK construct (lib/constructs/data-table.ts) and the
 * local runtime / tests (createTable against DynamoDB Local) both build the table from this object,
 * so the indexes used by the repositories exist in both places.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  ttlAttribute: 'ttl',
  /** Generic, overloaded GSIs (ElectroDB style): each entity documents what it stores in them. */
  globalIndexes: [
    { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    { indexName: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
    { indexName: 'GSI3', partitionKey: 'GSI3PK', sortKey: 'GSI3SK' },
  ],
} as const;

export type IndexName = (typeof TABLE_SCHEMA.globalIndexes)[number]['indexName'];
