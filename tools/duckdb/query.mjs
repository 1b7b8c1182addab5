// tools/duckdb/query.mjs SQL: runs SQL in an in-memory DuckDB and prints each
// row as a JSON array, one a line (tests/export: DuckDB reads the history
// export's zstd JSON lines as a fleet's query would).
import { DuckDBInstance } from '@duckdb/node-api';

const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const r = await c.runAndReadAll(process.argv[2]);
for (const row of r.getRowsJson())
	console.log(JSON.stringify(row));
