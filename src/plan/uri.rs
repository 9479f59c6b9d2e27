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
}
