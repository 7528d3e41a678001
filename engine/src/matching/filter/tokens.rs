//! The filter language's tokens: parentheses, list brackets, commas, comparison
//! operators, quoted strings (single or double quotes, backslash escapes) and bare
//! words, each with its 1-based column for error messages.

use super::{Parsed, fail};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Open,
    Close,
    OpenList,
    CloseList,
    Comma,
    Op(Op),
    /// A quoted string, unescaped.
    Quoted(String),
    /// A bare word: a field, a keyword or an unquoted value.
    Word(String),
}

impl Token {
    pub(super) fn describe(&self) -> String {
        match self {
            Token::Open => "`(`".to_owned(),
            Token::Close => "`)`".to_owned(),
            Token::OpenList => "`[`".to_owned(),
            Token::CloseList => "`]`".to_owned(),
            Token::Comma => "`,`".to_owned(),
            Token::Op(op) => format!("`{}`", op.symbol()),
            Token::Quoted(text) => format!("\"{text}\""),
            Token::Word(word) => format!("`{word}`"),
        }
    }

    pub(super) fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(word) if word.eq_ignore_ascii_case(keyword))
    }
}

/// Splits `text` into tokens with their 1-based columns.
pub(super) fn tokenize(text: &str) -> Parsed<Vec<(Token, usize)>> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let column = at + 1;
        let c = chars[at];
        let single = match c {
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            '[' => Some(Token::OpenList),
            ']' => Some(Token::CloseList),
            ',' => Some(Token::Comma),
            _ => None,
        };
        if let Some(token) = single {
            tokens.push((token, column));
            at += 1;
        } else if c.is_whitespace() {
            at += 1;
        } else if matches!(c, '=' | '!' | '<' | '>') {
            let equals_next = chars.get(at + 1) == Some(&'=');
            let (op, width) = match (c, equals_next) {
                ('=', _) => (Op::Eq, 1),
                ('!', true) => (Op::Ne, 2),
                ('<', true) => (Op::Le, 2),
                ('<', false) => (Op::Lt, 1),
                ('>', true) => (Op::Ge, 2),
                ('>', false) => (Op::Gt, 1),
                _ => return fail(format!("`!` at column {column} must be followed by `=`")),
            };
            tokens.push((Token::Op(op), column));
            at += width;
        } else if c == '"' || c == '\'' {
            let mut value = String::new();
            at += 1;
            loop {
                match chars.get(at) {
                    None => {
                        return fail(format!("unterminated string starting at column {column}"));
                    }
                    Some(&'\\') if at + 1 < chars.len() => {
                        value.push(chars[at + 1]);
                        at += 2;
                    }
                    Some(&quote) if quote == c => {
                        at += 1;
                        break;
                    }
                    Some(&other) => {
                        value.push(other);
                        at += 1;
                    }
                }
            }
            tokens.push((Token::Quoted(value), column));
        } else {
            let from = at;
            while at < chars.len()
                && !chars[at].is_whitespace()
                && !"()[],=!<>\"'".contains(chars[at])
            {
                at += 1;
            }
            tokens.push((Token::Word(chars[from..at].iter().collect()), column));
        }
    }
    Ok(tokens)
}
