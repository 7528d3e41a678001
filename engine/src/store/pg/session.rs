//! Running SQL on a connection with each statement prepared once: the first
//! use of a statement text on a connection parses it, later uses only bind
//! and execute, one round trip instead of two. A [`Session`] is a pooled
//! connection (reads) or a write transaction on one ([`TxnSession`]).

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{GenericClient, Row, Statement, Transaction};

use crate::{Error, Result};

/// Parameters of a statement.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The statements prepared on one connection, by their text.
#[derive(Default)]
pub(crate) struct Statements(HashMap<String, Statement>);

impl Statements {
    /// The statement for `sql`, prepared on `client` the first time.
    fn prepared(&mut self, client: &mut impl GenericClient, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.0.get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql)?;
        self.0.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// Somewhere SQL runs with cached statements.
pub(crate) trait Session {
    /// The client and its connection's statements.
    fn parts(&mut self) -> (&mut dyn Runner, &mut Statements);

    /// Every row `sql` returns.
    fn rows(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let (runner, statements) = self.parts();
        runner.rows(statements, sql, params)
    }

    /// The row `sql` returns, if any.
    fn row_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    /// The one row `sql` returns.
    fn row(&mut self, sql: &str, params: Params<'_>) -> Result<Row> {
        self.row_opt(sql, params)?
            .ok_or_else(|| Error::Storage("a query that returns one row returned none".to_owned()))
    }

    /// Runs `sql`; returns how many rows it changed.
    fn run(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        let (runner, statements) = self.parts();
        runner.run(statements, sql, params)
    }
}

/// A client or transaction that prepares and runs statements.
pub(crate) trait Runner {
    /// Rows of a prepared `sql`.
    fn rows(
        &mut self,
        statements: &mut Statements,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Vec<Row>>;
    /// Runs a prepared `sql`.
    fn run(&mut self, statements: &mut Statements, sql: &str, params: Params<'_>) -> Result<u64>;
}

impl<C: GenericClient> Runner for C {
    fn rows(
        &mut self,
        statements: &mut Statements,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Vec<Row>> {
        let statement = statements.prepared(self, sql)?;
        Ok(self.query(&statement, params)?)
    }

    fn run(&mut self, statements: &mut Statements, sql: &str, params: Params<'_>) -> Result<u64> {
        let statement = statements.prepared(self, sql)?;
        Ok(self.execute(&statement, params)?)
    }
}

/// A write transaction with its connection's statements.
pub(crate) struct TxnSession<'c> {
    /// The transaction.
    pub(crate) tx: Transaction<'c>,
    statements: &'c mut Statements,
}

impl<'c> TxnSession<'c> {
    /// A session over `tx`, which runs on the connection `statements` belong to.
    pub(crate) fn new(tx: Transaction<'c>, statements: &'c mut Statements) -> Self {
        TxnSession { tx, statements }
    }
}

impl Session for TxnSession<'_> {
    fn parts(&mut self) -> (&mut dyn Runner, &mut Statements) {
        (&mut self.tx, self.statements)
    }
}
