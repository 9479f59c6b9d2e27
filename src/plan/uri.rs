//! Integration URIs with `{name}` placeholders (filled from `integration.request.path.name`)
//! and `${stageVariables.name}`, split once at load so a request only concatenates.

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    PathParam(String),
    StageVariable(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct UriTemplate {
    pieces: Vec<Piece>,
}

impl UriTemplate {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut literal = String::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("${") {
                let end = after.find('}').ok_or_else(|| format!("unclosed \"${{\" in {text:?}"))?;
                let var = &after[..end];
                let name = var.strip_prefix("stageVariables.").filter(|n| !n.is_empty()).ok_or_else(|| {
                    format!("\"${{{var}}}\" is not a stage variable reference (${{stageVariables.NAME}})")
                })?;
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
                pieces.push(Piece::StageVariable(name.to_string()));
                rest = &after[end + 1..];
            } else if let Some(after) = rest.strip_prefix('{') {
                let end = after.find('}').ok_or_else(|| format!("unclosed \"{{\" in {text:?}"))?;
                let name = &after[..end];
                if name.is_empty() {
                    return Err(format!("empty placeholder \"{{}}\" in {text:?}"));
                }
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
                pieces.push(Piece::PathParam(name.to_string()));
                rest = &after[end + 1..];
            } else {
                let c = rest.chars().next().unwrap_or_default();
                literal.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        pieces.push(Piece::Text(literal));
        pieces.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
        Ok(Self { pieces })
    }

    /// The URI for one request. A placeholder with no mapped value stays as written, as on AWS;
    /// a missing stage variable becomes empty.
    pub fn render<'a>(
        &self,
        path_param: impl Fn(&str) -> Option<&'a str>,
        stage_variable: impl Fn(&str) -> Option<&'a str>,
    ) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::PathParam(name) => match path_param(name) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                },
                Piece::StageVariable(name) => out.push_str(stage_variable(name).unwrap_or("")),
            }
        }
        out
    }

    pub fn path_params(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::PathParam(n) => Some(n.as_str()),
            _ => None,
        })
    }

    pub fn uses_stage_variables(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::StageVariable(_)))
    }

    /// The template as a plain-HTTP backend named outright (`http://host:port/path...`, the
    /// host literal), when it is one whose path and query a request line can carry as
    /// written: literal text of URI characters only, placeholders, no stage variables. Such
    /// a request's head is written without an `http::Uri` made and parsed back.
    pub fn plain_http(&self) -> Option<PlainHttpTarget> {
        let Some(Piece::Text(first)) = self.pieces.first() else { return None };
        let after = first.strip_prefix("http://")?;
        // The authority ends inside the first piece, at the path's `/`.
        let end = after.find(['/', '?', '#'])?;
        if after.as_bytes()[end] != b'/' || after[..end].contains('@') {
            return None;
        }
        let authority: http::uri::Authority = after[..end].parse().ok()?;
        let mut pieces = vec![Piece::Text(after[end..].to_string())];
        pieces.extend(self.pieces[1..].iter().cloned());
        let carried = |p: &Piece| match p {
            Piece::Text(t) => t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%/?".contains(&b)),
            Piece::PathParam(_) => true,
            Piece::StageVariable(_) => false,
        };
        pieces.iter().all(carried).then(|| PlainHttpTarget { authority, path: UriTemplate { pieces } })
    }

    /// Writes the template into `out`, each placeholder by `fill` (false when it has no
    /// value: the whole render is then given up, returning false).
    pub fn render_into(&self, out: &mut String, mut fill: impl FnMut(&str, &mut String) -> bool) -> bool {
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::PathParam(name) => {
                    if !fill(name, out) {
                        return false;
                    }
                }
                Piece::StageVariable(_) => return false,
            }
        }
        true
    }
}

/// See [`UriTemplate::plain_http`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlainHttpTarget {
    pub authority: http::uri::Authority,
    /// The path and query, starting with `/`.
    pub path: UriTemplate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_and_stage_variables() {
        let t = UriTemplate::parse("http://${stageVariables.host}/pets/{id}?x={q}").unwrap();
        let out = t.render(|n| (n == "id").then_some("7"), |n| (n == "host").then_some("h:1"));
        assert_eq!(out, "http://h:1/pets/7?x={q}");
        assert!(UriTemplate::parse("http://x/${foo}").is_err());
    }

    #[test]
    fn plain_http_targets_are_literal_hosts_and_uri_text() {
        let t = UriTemplate::parse("http://127.0.0.1:8080/pets/{id}?x=1").unwrap().plain_http().unwrap();
        assert_eq!(t.authority.as_str(), "127.0.0.1:8080");
        let mut out = String::new();
        assert!(t.path.render_into(&mut out, |name, out| {
            out.push_str(name);
            true
        }));
        assert_eq!(out, "/pets/id?x=1");
        assert!(!t.path.render_into(&mut String::new(), |_, _| false), "a placeholder without a value gives up");
        for general in [
            "https://example.com/a",
            "http://${stageVariables.host}/a",
            "http://example.com/${stageVariables.path}",
            "http://example.com",
            "http://example.com?q=1",
            "http://user@example.com/a",
            "http://example.com/a b",
            "http://example.com/a#f",
            "http://exa{host}.com/a",
        ] {
            let t = UriTemplate::parse(general).unwrap();
            assert_eq!(t.plain_http(), None, "{general}");
        }
    }
}
