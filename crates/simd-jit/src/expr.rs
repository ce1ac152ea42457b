//! The little language a user types at run time: `--expr "x*x + 3*x - 1"`.
//!
//! Numbers, the variable `x`, `+ - * /`, unary minus, parentheses and four functions:
//! `sqrt(a)`, `abs(a)`, `min(a, b)`, `max(a, b)`. A recursive-descent parser turns the text
//! into a tree ([`Expr`]) that the interpreter walks and the JIT compiles. Every error names
//! its column, and [`ParseError::render`] marks it with a caret under the input.
//!
//! Depth is bounded: parentheses, function calls, unary minus and every operator applied to
//! a sub-expression count as one level each, and more than [`MAX_DEPTH`] levels is an error.
//! That keeps the parser, the tree walk, the code generator and the tree's destructor (all
//! recursive) far from the stack's end, whatever the input.

use std::fmt;

/// The expression the chapter measures (and the one written in Rust ahead of time).
pub const DEFAULT_EXPR: &str = "x*x + 3*x - 1";

/// Levels of nesting an expression may have.
pub const MAX_DEPTH: usize = 256;

// ANCHOR: tree
/// A parsed expression of one variable, `x`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    X,
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Sqrt,
    Abs,
    Min,
    Max,
}
// ANCHOR_END: tree

impl Func {
    pub const ALL: [Func; 4] = [Func::Sqrt, Func::Abs, Func::Min, Func::Max];

    pub fn name(self) -> &'static str {
        match self {
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
            Func::Min => "min",
            Func::Max => "max",
        }
    }

    pub fn arity(self) -> usize {
        match self {
            Func::Sqrt | Func::Abs => 1,
            Func::Min | Func::Max => 2,
        }
    }

    fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl BinOp {
    pub fn symbol(self) -> char {
        match self {
            BinOp::Add => '+',
            BinOp::Sub => '-',
            BinOp::Mul => '*',
            BinOp::Div => '/',
        }
    }
}

/// A bad expression: what is wrong and where (a 1-based column, counted in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub column: usize,
    pub input: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}", self.message, self.column)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// Three lines: `error: MESSAGE at column N`, the input, and a caret under column N.
    /// The first line stands alone; the other two show where.
    pub fn render(&self) -> String {
        // Control characters (tabs, newlines) would move the caret: show them as spaces.
        let shown: String = self
            .input
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        format!(
            "error: {self}\n  {shown}\n  {}^",
            " ".repeat(self.column.saturating_sub(1))
        )
    }
}

impl Expr {
    /// Parse `input`; the whole input must be one expression.
    pub fn parse(input: &str) -> Result<Expr, ParseError> {
        let tokens = lex(input)?;
        let mut parser = Parser {
            input,
            tokens,
            pos: 0,
            depth: 0,
        };
        let Some(first) = parser.tokens.first() else {
            return Err(parser.error("empty expression", 1));
        };
        if first.kind == Tok::End {
            return Err(parser.error("empty expression", 1));
        }
        let (expr, _) = parser.expr()?;
        let next = parser.peek();
        match next.kind {
            Tok::End => Ok(expr),
            Tok::Close => Err(parser.error("unmatched ')'", next.column)),
            _ => Err(parser.error(
                format!(
                    "unexpected {} after a complete expression",
                    describe(input, next)
                ),
                next.column,
            )),
        }
    }

    /// Whether the expression reads `x` at all.
    pub fn uses_x(&self) -> bool {
        match self {
            Expr::Num(_) => false,
            Expr::X => true,
            Expr::Neg(a) => a.uses_x(),
            Expr::Bin(_, a, b) => a.uses_x() || b.uses_x(),
            Expr::Call(_, args) => args.iter().any(Expr::uses_x),
        }
    }

    /// Python source computing the same value with the same operations in the same order.
    /// Numbers become `F(literal)` and functions `SQRT`, `ABS`, `MIN`, `MAX`, so that the
    /// script binds them to numpy (or numba) and never falls back to Python floats, which
    /// raise on division by zero where IEEE (and numpy) give infinity.
    pub fn to_python(&self) -> String {
        match self {
            Expr::Num(v) => format!("F({v:?})"),
            Expr::X => "x".into(),
            Expr::Neg(a) => format!("(-{})", a.to_python()),
            Expr::Bin(op, a, b) => {
                format!("({} {} {})", a.to_python(), op.symbol(), b.to_python())
            }
            Expr::Call(f, args) => {
                let args: Vec<String> = args.iter().map(Expr::to_python).collect();
                format!("{}({})", f.name().to_uppercase(), args.join(", "))
            }
        }
    }
}

/// Writes the expression back fully parenthesised, with numbers that parse to the same f64.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Num(v) => write!(f, "{v:?}"),
            Expr::X => f.write_str("x"),
            Expr::Neg(a) => write!(f, "(-{a})"),
            Expr::Bin(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
            Expr::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Plus,
    Minus,
    Star,
    Slash,
    Open,
    Close,
    Comma,
    End,
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: Tok,
    /// 1-based column of the token's first character.
    column: usize,
    /// Byte range in the input, for messages that quote it.
    start: usize,
    end: usize,
}

fn lex(input: &str) -> Result<Vec<Token>, ParseError> {
    let err = |message: String, column: usize| ParseError {
        message,
        column,
        input: input.to_string(),
    };
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let column = i + 1;
        let single = |kind| Token {
            kind,
            column,
            start,
            end: start + c.len_utf8(),
        };
        match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '+' => tokens.push(single(Tok::Plus)),
            '-' => tokens.push(single(Tok::Minus)),
            '*' => tokens.push(single(Tok::Star)),
            '/' => tokens.push(single(Tok::Slash)),
            '(' => tokens.push(single(Tok::Open)),
            ')' => tokens.push(single(Tok::Close)),
            ',' => tokens.push(single(Tok::Comma)),
            c if c.is_ascii_digit() || c == '.' => {
                // digits [. digits] [(e|E) [+-] digits], or . digits [exponent]
                let digit = |k: usize| chars.get(k).is_some_and(|(_, c)| c.is_ascii_digit());
                let mut k = i;
                while digit(k) {
                    k += 1;
                }
                if chars.get(k).is_some_and(|&(_, c)| c == '.') {
                    k += 1;
                    while digit(k) {
                        k += 1;
                    }
                }
                if chars.get(k).is_some_and(|&(_, c)| c == 'e' || c == 'E') {
                    let sign = chars.get(k + 1).is_some_and(|&(_, c)| c == '+' || c == '-');
                    let first = if sign { k + 2 } else { k + 1 };
                    if digit(first) {
                        k = first;
                        while digit(k) {
                            k += 1;
                        }
                    }
                }
                let end = chars.get(k).map_or(input.len(), |&(b, _)| b);
                let text = &input[start..end];
                if text == "." {
                    return Err(err("a lone '.' is not a number".into(), column));
                }
                let value: f64 = text
                    .parse()
                    .map_err(|_| err(format!("malformed number '{text}'"), column))?;
                let nonzero_digits = text
                    .split(['e', 'E'])
                    .next()
                    .is_some_and(|m| m.chars().any(|c| ('1'..='9').contains(&c)));
                if value.is_infinite() || (value == 0.0 && nonzero_digits) {
                    return Err(err(
                        format!("number {text} is out of range for f64"),
                        column,
                    ));
                }
                tokens.push(Token {
                    kind: Tok::Num(value),
                    column,
                    start,
                    end,
                });
                i = k;
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut k = i;
                while chars
                    .get(k)
                    .is_some_and(|&(_, c)| c.is_alphanumeric() || c == '_')
                {
                    k += 1;
                }
                let end = chars.get(k).map_or(input.len(), |&(b, _)| b);
                tokens.push(Token {
                    kind: Tok::Name(input[start..end].to_string()),
                    column,
                    start,
                    end,
                });
                i = k;
                continue;
            }
            other => {
                return Err(err(format!("unexpected character {other:?}"), column));
            }
        }
        i += 1;
    }
    tokens.push(Token {
        kind: Tok::End,
        column: chars.len() + 1,
        start: input.len(),
        end: input.len(),
    });
    Ok(tokens)
}

fn describe(input: &str, t: &Token) -> String {
    match &t.kind {
        Tok::End => "the end of the expression".into(),
        Tok::Name(n) => format!("'{n}'"),
        _ => format!("'{}'", &input[t.start..t.end]),
    }
}

struct Parser<'s> {
    input: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    /// Current nesting of parentheses, calls and unary minus (bounds the recursion).
    depth: usize,
}

/// A parsed sub-expression and the height of its tree (a number or `x` alone: 0).
type Parsed = (Expr, usize);

// ANCHOR: parser
impl Parser<'_> {
    /// expr := term (('+' | '-') term)*
    fn expr(&mut self) -> Result<Parsed, ParseError> {
        let (mut left, mut height) = self.term()?;
        while let Some(op) = self.binop(&[(Tok::Plus, BinOp::Add), (Tok::Minus, BinOp::Sub)]) {
            let column = self.advance().column;
            let (right, h) = self.term()?;
            (left, height) = self.combine(op, left, right, height.max(h), column)?;
        }
        Ok((left, height))
    }

    /// term := unary (('*' | '/') unary)*
    fn term(&mut self) -> Result<Parsed, ParseError> {
        let (mut left, mut height) = self.unary()?;
        while let Some(op) = self.binop(&[(Tok::Star, BinOp::Mul), (Tok::Slash, BinOp::Div)]) {
            let column = self.advance().column;
            let (right, h) = self.unary()?;
            (left, height) = self.combine(op, left, right, height.max(h), column)?;
        }
        Ok((left, height))
    }

    /// unary := '-' unary | primary
    fn unary(&mut self) -> Result<Parsed, ParseError> {
        if self.peek().kind == Tok::Minus {
            let column = self.advance().column;
            self.enter(column)?;
            let (inner, height) = self.unary()?;
            self.depth -= 1;
            self.check_height(height + 1, column)?;
            return Ok((Expr::Neg(Box::new(inner)), height + 1));
        }
        self.primary()
    }

    /// primary := number | 'x' | function '(' expr (',' expr)* ')' | '(' expr ')'
    fn primary(&mut self) -> Result<Parsed, ParseError> {
        let token = self.advance();
        match token.kind {
            Tok::Num(v) => Ok((Expr::Num(v), 0)),
            Tok::Name(ref name) if name == "x" => Ok((Expr::X, 0)),
            Tok::Name(ref name) => match Func::from_name(name) {
                Some(func) => self.call(func, &token),
                None => Err(self.error(format!("unknown name '{name}'"), token.column)),
            },
            Tok::Open => {
                self.enter(token.column)?;
                let inner = self.expr()?;
                self.depth -= 1;
                self.close(&token)?;
                Ok(inner)
            }
            _ => Err(self.error(
                format!(
                    "expected a number, x, a function or '(' but found {}",
                    describe(self.input, &token)
                ),
                token.column,
            )),
        }
    }
    // ANCHOR_END: parser

    fn call(&mut self, func: Func, name: &Token) -> Result<Parsed, ParseError> {
        let open = self.advance();
        if open.kind != Tok::Open {
            return Err(self.error(format!("expected '(' after {}", func.name()), open.column));
        }
        self.enter(open.column)?;
        let mut args = Vec::new();
        let mut height = 0;
        loop {
            let (arg, h) = self.expr()?;
            args.push(arg);
            height = height.max(h);
            if self.peek().kind != Tok::Comma {
                break;
            }
            self.advance();
        }
        self.depth -= 1;
        self.close(&open)?;
        if args.len() != func.arity() {
            let plural = if func.arity() == 1 { "" } else { "s" };
            return Err(self.error(
                format!(
                    "{} takes {} argument{plural}, got {}",
                    func.name(),
                    func.arity(),
                    args.len()
                ),
                name.column,
            ));
        }
        self.check_height(height + 1, name.column)?;
        Ok((Expr::Call(func, args), height + 1))
    }

    /// The ')' that closes the '(' at `open`.
    fn close(&mut self, open: &Token) -> Result<(), ParseError> {
        let next = self.peek().clone();
        match next.kind {
            Tok::Close => {
                self.advance();
                Ok(())
            }
            Tok::End => Err(self.error("unclosed '(': no ')' matches it", open.column)),
            _ => Err(self.error(
                format!("expected ')' but found {}", describe(self.input, &next)),
                next.column,
            )),
        }
    }

    fn combine(
        &self,
        op: BinOp,
        left: Expr,
        right: Expr,
        height: usize,
        column: usize,
    ) -> Result<Parsed, ParseError> {
        self.check_height(height + 1, column)?;
        Ok((Expr::Bin(op, Box::new(left), Box::new(right)), height + 1))
    }

    fn enter(&mut self, column: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.nesting(column));
        }
        Ok(())
    }

    fn check_height(&self, height: usize, column: usize) -> Result<(), ParseError> {
        if height > MAX_DEPTH {
            return Err(self.nesting(column));
        }
        Ok(())
    }

    fn nesting(&self, column: usize) -> ParseError {
        self.error(format!("nesting deeper than {MAX_DEPTH}"), column)
    }

    fn binop(&self, ops: &[(Tok, BinOp)]) -> Option<BinOp> {
        let next = &self.peek().kind;
        ops.iter().find(|(t, _)| t == next).map(|&(_, op)| op)
    }

    fn peek(&self) -> &Token {
        // The lexer always ends the list with `End`, and `advance` never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if t.kind != Tok::End {
            self.pos += 1;
        }
        t
    }

    fn error(&self, message: impl Into<String>, column: usize) -> ParseError {
        ParseError {
            message: message.into(),
            column,
            input: self.input.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(input: &str) -> ParseError {
        Expr::parse(input).unwrap_err()
    }

    #[test]
    fn precedence_and_associativity() {
        let e = Expr::parse(DEFAULT_EXPR).unwrap();
        assert_eq!(e.to_string(), "(((x * x) + (3.0 * x)) - 1.0)");
        assert_eq!(
            Expr::parse("-x*2 - -3/4/5").unwrap().to_string(),
            "(((-x) * 2.0) - (((-3.0) / 4.0) / 5.0))"
        );
        assert_eq!(
            Expr::parse("max(min(x, 1), sqrt(abs(x)))")
                .unwrap()
                .to_string(),
            "max(min(x, 1.0), sqrt(abs(x)))"
        );
        assert_eq!(
            Expr::parse("1.5e3 + .25 + 2. + 1E-2").unwrap().to_string(),
            "(((1500.0 + 0.25) + 2.0) + 0.01)"
        );
        assert_eq!(
            Expr::parse("x*x + 3*x - 1").unwrap().to_python(),
            "(((x * x) + (F(3.0) * x)) - F(1.0))"
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            DEFAULT_EXPR,
            "-(x) / 3 * sqrt(x)",
            "max(x, -x) - 1e300 * 0.1",
        ] {
            let e = Expr::parse(s).unwrap();
            assert_eq!(Expr::parse(&e.to_string()).unwrap(), e, "{s}");
        }
    }

    #[test]
    fn every_error_names_its_column() {
        let cases: &[(&str, &str, usize)] = &[
            ("", "empty expression", 1),
            ("   ", "empty expression", 1),
            ("x + y", "unknown name 'y'", 5),
            ("(x + 1", "unclosed '(': no ')' matches it", 1),
            ("sqrt(x", "unclosed '(': no ')' matches it", 5),
            ("x + 1)", "unmatched ')'", 6),
            (
                ")",
                "expected a number, x, a function or '(' but found ')'",
                1,
            ),
            ("x + 1 z", "unexpected 'z' after a complete expression", 7),
            ("2x", "unexpected 'x' after a complete expression", 2),
            ("1.2.3", "unexpected '.3' after a complete expression", 4),
            ("1e400 * x", "number 1e400 is out of range for f64", 1),
            ("x - 1e-400", "number 1e-400 is out of range for f64", 5),
            (
                "x +",
                "expected a number, x, a function or '(' but found the end of the expression",
                4,
            ),
            ("x $ 1", "unexpected character '$'", 3),
            ("sqrt x", "expected '(' after sqrt", 6),
            ("min(x)", "min takes 2 arguments, got 1", 1),
            ("abs(x, 1)", "abs takes 1 argument, got 2", 1),
            ("(x", "unclosed '(': no ')' matches it", 1),
            ("(x 1)", "expected ')' but found '1'", 4),
            (".", "a lone '.' is not a number", 1),
            ("é + x", "unknown name 'é'", 1),
        ];
        for &(input, message, column) in cases {
            let e = err(input);
            assert_eq!(
                (e.message.as_str(), e.column),
                (message, column),
                "{input:?}"
            );
        }
    }

    #[test]
    fn the_caret_points_at_the_column() {
        let e = err("x + y");
        assert_eq!(
            e.render(),
            "error: unknown name 'y' at column 5\n  x + y\n      ^"
        );
        assert_eq!(e.render().lines().next().unwrap(), format!("error: {e}"));
    }

    #[test]
    fn depth_is_bounded_without_overflowing_the_stack() {
        let n = 100_000;
        let parens = format!("{}x{}", "(".repeat(n), ")".repeat(n));
        let e = err(&parens);
        assert_eq!(e.message, "nesting deeper than 256");
        assert_eq!(e.column, MAX_DEPTH + 1);
        let minus = format!("{}x", "-".repeat(n));
        assert_eq!(err(&minus).message, "nesting deeper than 256");
        let calls = format!("{}x{}", "abs(".repeat(n), ")".repeat(n));
        assert_eq!(err(&calls).message, "nesting deeper than 256");
        // A long chain of operators builds a deep tree too.
        let chain = vec!["x"; n].join(" + ");
        assert_eq!(err(&chain).message, "nesting deeper than 256");
        // Right at the limit is fine.
        let ok = format!("{}x{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(Expr::parse(&ok).unwrap(), Expr::X);
        let ok = vec!["x"; MAX_DEPTH + 1].join("+");
        assert!(Expr::parse(&ok).is_ok());
        let ok = format!("{}x", "-".repeat(MAX_DEPTH));
        assert!(Expr::parse(&ok).is_ok());
        let too_deep = vec!["x"; MAX_DEPTH + 2].join("+");
        assert!(Expr::parse(&too_deep).is_err());
    }
}
