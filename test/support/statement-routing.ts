/**
 * Which runs a SQL statement reaches, read from its parse tree (libpg-query: PostgreSQL's own
 * parser compiled to WASM). The per-run tables are distributed by the run (`activity_id`), and
 * `activities` by its `id`, as on a Citus cluster with the runs' rows co-located: a statement
 * whose every reference to those tables is pinned to one run by equality is a router query (one
 * shard); one pinned to a list of runs (`= ANY`) or to two runs reaches their shards only; one
 * with a reference that is not pinned reaches every shard.
 */
import { loadModule, parseSync } from 'libpg-query';

/** The distributed tables and the column each is distributed by. */
export const DISTRIBUTION_COLUMNS: Readonly<Record<string, string>> = {
  execution_items: 'activity_id',
  append_batches: 'activity_id',
  activities: 'id',
};

/** The tables that hold a run's rows: every statement on them must name its runs. */
export const PER_RUN_TABLES = ['execution_items', 'append_batches'] as const;

/** One reference to a distributed table, and what pins its distribution column. */
export interface TableReference {
  table: string;
  /** The alias (or table name) it goes by in the statement. */
  alias: string;
  /**
   * What the distribution column equals: a parameter (`$1`), a literal, `any($1)` for a list,
   * `copy rows` for the rows of a COPY; `null` when nothing pins it.
   */
  pin: string | null;
  /** `on delete cascade` for rows a statement deletes through a foreign key. */
  via?: string;
}

/** Where a statement runs on a cluster distributed by run. */
export type RunScope = 'one run' | 'several runs' | 'every run';

export interface StatementRouting {
  /** The statement (one of the recorded text's statements, as the parser split them). */
  sql: string;
  references: TableReference[];
  scope: RunScope;
}

type Ast = Record<string, unknown>;

/** A query level: the relations of its FROM and the conditions ANDed at that level. */
interface Level {
  relations: Array<{ alias: string; table: string | null }>;
  conjuncts: Ast[];
  parent: Level | null;
}

/** Loads the parser (WASM); once, before `routeStatements`. */
export function loadParser(): Promise<void> {
  return loadModule();
}

/**
 * Each statement of `text` that touches a distributed table, with its references and scope.
 * Throws when the text does not parse.
 */
export function routeStatements(text: string): StatementRouting[] {
  const parsed = parseSync(text) as {
    stmts?: Array<{ stmt: Ast; stmt_location?: number; stmt_len?: number }>;
  };
  const routings: StatementRouting[] = [];
  for (const { stmt, stmt_location: start = 0, stmt_len: length } of parsed.stmts ?? []) {
    const references: TableReference[] = [];
    visitStatement(stmt, null, references);
    if (references.length === 0) continue;
    const sql = (length ? text.slice(start, start + length) : text.slice(start)).trim();
    routings.push({ sql, references, scope: scopeOf(references) });
  }
  return routings;
}

function scopeOf(references: readonly TableReference[]): RunScope {
  if (references.some((reference) => reference.pin === null)) return 'every run';
  const pins = new Set(references.map((reference) => reference.pin));
  const [pin] = pins;
  return pins.size === 1 && !pin!.startsWith('any(') ? 'one run' : 'several runs';
}

function visitStatement(node: Ast, parent: Level | null, references: TableReference[]): void {
  const [kind, body] = Object.entries(node)[0] as [string, Ast];
  switch (kind) {
    case 'SelectStmt':
      visitSelect(body, parent, references);
      return;
    case 'InsertStmt':
      visitInsert(body, parent, references);
      return;
    case 'UpdateStmt':
    case 'DeleteStmt':
      visitUpdateOrDelete(kind, body, parent, references);
      return;
    case 'CopyStmt':
      visitCopy(body, references);
      return;
    default:
      // Transaction control, SET, LISTEN, utility statements: no table rows. Anything else
      // that names a distributed table (DDL, say) is reported unpinned.
      for (const range of findAll(body, 'RangeVar')) {
        const table = String(range.relname);
        if (table in DISTRIBUTION_COLUMNS) references.push({ table, alias: table, pin: null });
      }
  }
}

function visitWith(body: Ast, parent: Level | null, references: TableReference[]): void {
  const withClause = body.withClause as Ast | undefined;
  for (const cte of (withClause?.ctes as Ast[] | undefined) ?? []) {
    // A CTE sees none of the level's relations: its parent is the statement's.
    visitStatement((cte.CommonTableExpr as Ast).ctequery as Ast, parent, references);
  }
}

function visitSelect(select: Ast, parent: Level | null, references: TableReference[]): void {
  visitWith(select, parent, references);
  if (select.op && select.op !== 'SETOP_NONE') {
    visitSelect(select.larg as Ast, parent, references);
    visitSelect(select.rarg as Ast, parent, references);
    return;
  }
  const level: Level = { relations: [], conjuncts: [], parent };
  const subqueries: Ast[] = [];
  const expressions: unknown[] = [
    select.targetList,
    select.whereClause,
    select.havingClause,
    select.valuesLists,
  ];
  for (const item of (select.fromClause as Ast[] | undefined) ?? []) {
    collectFrom(item, level, subqueries, expressions);
  }
  level.conjuncts.push(...conjunctsOf(select.whereClause as Ast | undefined));
  referencesOf(level, references);
  for (const subquery of subqueries) visitStatement(subquery, level, references);
  for (const expression of expressions) visitSublinks(expression, level, references);
}

function visitInsert(insert: Ast, parent: Level | null, references: TableReference[]): void {
  visitWith(insert, parent, references);
  const relation = insert.relation as Ast;
  const table = String(relation.relname);
  const select = (insert.selectStmt as Ast | undefined)?.SelectStmt as Ast | undefined;
  const column = DISTRIBUTION_COLUMNS[table];
  if (column) {
    const names = ((insert.cols as Ast[] | undefined) ?? []).map((col) =>
      String((col.ResTarget as Ast).name),
    );
    const index = names.indexOf(column);
    let pin: string | null = null;
    if (index >= 0 && select) {
      // The value each inserted row gets: one expression per VALUES row, or the SELECT's target.
      const selectLevel: Level = { relations: [], conjuncts: [], parent };
      const values = select.valuesLists
        ? (select.valuesLists as Ast[]).map((row) => ((row.List as Ast).items as Ast[])[index])
        : [((select.targetList as Ast[])[index].ResTarget as Ast).val as Ast];
      const pins = new Set(values.map((value) => pinOf(value, selectLevel, 0)));
      pin = pins.has(null) ? null : pins.size === 1 ? [...pins][0] : `any(${[...pins].join(',')})`;
    }
    references.push({ table, alias: table, pin });
  }
  if (select) visitSelect(select, parent, references);
}

function visitUpdateOrDelete(
  kind: 'UpdateStmt' | 'DeleteStmt',
  statement: Ast,
  parent: Level | null,
  references: TableReference[],
): void {
  visitWith(statement, parent, references);
  const relation = statement.relation as Ast;
  const table = String(relation.relname);
  const alias = ((relation.alias as Ast | undefined)?.aliasname as string | undefined) ?? table;
  const level: Level = { relations: [{ alias, table }], conjuncts: [], parent };
  const subqueries: Ast[] = [];
  const expressions: unknown[] = [statement.whereClause, statement.targetList, statement.returningList];
  const from = (kind === 'DeleteStmt' ? statement.usingClause : statement.fromClause) as Ast[] | undefined;
  for (const item of from ?? []) collectFrom(item, level, subqueries, expressions);
  level.conjuncts.push(...conjunctsOf(statement.whereClause as Ast | undefined));
  referencesOf(level, references);
  if (kind === 'DeleteStmt' && table === 'activities') {
    // The foreign keys cascade: the runs' items and batches go with the same pin.
    const pin = pinOfColumn(alias, 'id', level, 0);
    for (const perRun of PER_RUN_TABLES) {
      references.push({ table: perRun, alias: perRun, pin, via: 'on delete cascade' });
    }
  }
  for (const subquery of subqueries) visitStatement(subquery, level, references);
  for (const expression of expressions) visitSublinks(expression, level, references);
}

function visitCopy(copy: Ast, references: TableReference[]): void {
  const relation = copy.relation as Ast | undefined;
  const table = relation ? String(relation.relname) : null;
  if (!table || !(table in DISTRIBUTION_COLUMNS)) return;
  const columns = ((copy.attlist as Ast[] | undefined) ?? []).map((item) =>
    String((item.String as Ast).sval),
  );
  // Rows from the client carry the distribution column: a cluster routes each row by its value.
  const pin = copy.is_from && columns.includes(DISTRIBUTION_COLUMNS[table]) ? 'copy rows' : null;
  references.push({ table, alias: table, pin });
}

/** Adds a FROM item's relations and join conditions to `level`; lateral subqueries to `subqueries`. */
function collectFrom(item: Ast, level: Level, subqueries: Ast[], expressions: unknown[]): void {
  const [kind, body] = Object.entries(item)[0] as [string, Ast];
  const aliasOf = () => ((body.alias as Ast | undefined)?.aliasname as string | undefined) ?? '';
  switch (kind) {
    case 'RangeVar':
      level.relations.push({ alias: aliasOf() || String(body.relname), table: String(body.relname) });
      return;
    case 'JoinExpr':
      collectFrom(body.larg as Ast, level, subqueries, expressions);
      collectFrom(body.rarg as Ast, level, subqueries, expressions);
      level.conjuncts.push(...conjunctsOf(body.quals as Ast | undefined));
      expressions.push(body.quals);
      return;
    case 'RangeSubselect':
      level.relations.push({ alias: aliasOf(), table: null });
      subqueries.push(body.subquery as Ast);
      return;
    default:
      // A function in FROM (unnest ... AS u), or anything else that is not a table.
      level.relations.push({ alias: aliasOf(), table: null });
      expressions.push(body);
  }
}

function referencesOf(level: Level, references: TableReference[]): void {
  for (const relation of level.relations) {
    const column = relation.table && DISTRIBUTION_COLUMNS[relation.table];
    if (!column) continue;
    references.push({
      table: relation.table!,
      alias: relation.alias,
      pin: pinOfColumn(relation.alias, column, level, 0),
    });
  }
}

/** Subqueries in expressions (EXISTS, scalar, IN): each a level under `level`. */
function visitSublinks(expression: unknown, level: Level, references: TableReference[]): void {
  for (const sublink of findAll(expression, 'SubLink')) {
    visitStatement(sublink.subselect as Ast, level, references);
  }
}

/** Every node of `kind` under `node`, not looking inside the subqueries of the nodes found. */
function findAll(node: unknown, kind: string): Ast[] {
  const found: Ast[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(walk);
    } else if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (key === kind) {
          found.push(child as Ast);
        } else if (key !== 'SelectStmt') {
          walk(child);
        }
      }
    }
  };
  walk(node);
  return found;
}

function conjunctsOf(expression: Ast | undefined): Ast[] {
  if (!expression) return [];
  const bool = expression.BoolExpr as Ast | undefined;
  if (bool?.boolop === 'AND_EXPR') return (bool.args as Ast[]).flatMap(conjunctsOf);
  return [expression];
}

/** `alias.column` as `[alias, column]`, or `[null, column]` when unqualified; `null` for anything else. */
function columnOf(expression: Ast | undefined): [string | null, string] | null {
  const ref = expression?.ColumnRef as Ast | undefined;
  if (!ref) return null;
  const names = (ref.fields as Ast[]).map(
    (field) => (field.String as Ast | undefined)?.sval as string | undefined,
  );
  if (names.some((name) => name === undefined)) return null;
  if (names.length === 1) return [null, names[0]!];
  if (names.length === 2) return [names[0]!, names[1]!];
  return null;
}

const MAX_DEPTH = 4;

/**
 * What pins `alias.column` in `level` (or a level it sits in): a conjunct `alias.column = <pinned>`
 * (either way round), `alias.column = ANY(<pinned>)` or `alias.column IN (<pinned>, ...)`.
 */
function pinOfColumn(alias: string, column: string, level: Level, depth: number): string | null {
  let owner: Level | null = level;
  while (owner && !owner.relations.some((relation) => relation.alias === alias)) owner = owner.parent;
  if (!owner || depth > MAX_DEPTH) return null;
  const sole = owner.relations.length === 1;
  const isColumn = (expression: Ast | undefined) => {
    const ref = columnOf(expression);
    return ref !== null && ref[1] === column && (ref[0] === alias || (ref[0] === null && sole));
  };
  for (const conjunct of owner.conjuncts) {
    const expr = conjunct.A_Expr as Ast | undefined;
    if (!expr) continue;
    const operator = ((expr.name as Ast[] | undefined)?.[0]?.String as Ast | undefined)?.sval;
    if (operator !== '=') continue;
    const left = expr.lexpr as Ast;
    const right = expr.rexpr as Ast;
    if (expr.kind === 'AEXPR_OP') {
      for (const [mine, other] of [
        [left, right],
        [right, left],
      ]) {
        if (!isColumn(mine) || isColumn(other)) continue;
        const pin = pinOf(other, owner, depth + 1);
        if (pin) return pin;
      }
    } else if (expr.kind === 'AEXPR_OP_ANY' && isColumn(left)) {
      const pin = pinOf(right, owner, depth + 1);
      if (pin) return `any(${pin})`;
    } else if (expr.kind === 'AEXPR_IN' && isColumn(left)) {
      const list = ((right.List as Ast | undefined)?.items as Ast[] | undefined) ?? [];
      const pins = list.map((item) => pinOf(item, owner, depth + 1));
      if (pins.length > 0 && pins.every((pin) => pin !== null)) return `any(${pins.join(',')})`;
    }
  }
  return null;
}

/** A parameter, a literal, a cast of one, or a column itself pinned: what it stands for. */
function pinOf(expression: Ast | undefined, level: Level, depth: number): string | null {
  if (!expression) return null;
  if (expression.ParamRef) return `$${String((expression.ParamRef as Ast).number)}`;
  if (expression.A_Const) return JSON.stringify(expression.A_Const);
  if (expression.TypeCast) return pinOf((expression.TypeCast as Ast).arg as Ast, level, depth);
  const ref = columnOf(expression);
  if (ref && ref[0] !== null) return pinOfColumn(ref[0], ref[1], level, depth);
  return null;
}
