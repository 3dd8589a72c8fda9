//! Reading a ListObjectsV2 answer: the keys, whether it is truncated, and the continuation
//! token. A small, strict scanner for the few elements needed (S3's schema is flat here); keys
//! are XML-unescaped and, with `encoding-type=url`, URL-decoded (`+` is a space, as AWS encodes).

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// Keys on this page.
    pub keys: Vec<String>,
    /// The token of the next page, when the listing is truncated.
    pub next: Option<String>,
}

fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').ok_or("unterminated XML entity")? + i;
        let entity = &rest[i + 1..end];
        let ch = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => entity.strip_prefix('#').and_then(|d| d.parse().ok()),
                };
                code.and_then(char::from_u32).ok_or_else(|| format!("unknown XML entity &{entity};"))?
            }
        };
        out.push(ch);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn url_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                out.push(hex.and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or("bad %-escape in key")?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "key is not UTF-8".to_string())
}

/// Parses one ListObjectsV2 page.
pub fn parse(xml: &str) -> Result<ListPage, String> {
    if !xml.contains("<ListBucketResult") {
        return Err("not a ListBucketResult".into());
    }
    let url_encoded = elements(xml, "EncodingType").first().is_some_and(|e| e.trim() == "url");
    let mut keys = Vec::new();
    for contents in elements(xml, "Contents") {
        let key = elements(contents, "Key").first().copied().ok_or("<Contents> without <Key>")?;
        let key = unescape(key)?;
        keys.push(if url_encoded { url_decode(&key)? } else { key });
    }
    let truncated = elements(xml, "IsTruncated").first().is_some_and(|t| t.trim() == "true");
    // Blankness is judged after unescaping: `&#32;` is a blank token too.
    let token = match elements(xml, "NextContinuationToken").first() {
        Some(t) if truncated => Some(unescape(t.trim())?).filter(|t| !t.trim().is_empty()),
        _ => None,
    };
    let next = match token {
        Some(t) if truncated => Some(t),
        _ if truncated => return Err("truncated listing without a continuation token".into()),
        _ => None,
    };
    Ok(ListPage { keys, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_tokens_and_encodings() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
<Contents><Key>p/a+b%2Bc</Key><ETag>&quot;x&quot;</ETag><Size>1</Size></Contents>
<Contents><Key>p/%C3%A9&amp;</Key><Size>1</Size></Contents>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>"#;
        let page = parse(xml).unwrap();
        assert_eq!(page.keys, vec!["p/a b+c", "p/é&"]);
        assert_eq!(page.next.as_deref(), Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="));
        let last = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a&#x26;b&#38;</Key></Contents></ListBucketResult>";
        assert_eq!(parse(last).unwrap(), ListPage { keys: vec!["a&b&".into()], next: None });
    }

    #[test]
    fn malformed_answers_are_errors_not_panics() {
        for bad in [
            "",
            "<Error><Code>x</Code></Error>",
            "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
            "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
            "<ListBucketResult><Contents><Key>a&bogus;</Key></Contents></ListBucketResult>",
            "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%zz</Key></Contents></ListBucketResult>",
            "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%</Key></Contents></ListBucketResult>",
            "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%FF</Key></Contents></ListBucketResult>",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
