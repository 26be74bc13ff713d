-- People as actors (docs/sign-in.md): a person signed in through OpenID Connect creates,
-- renames, rotates and revokes keys like a key does. Their identity (subject and email, as
-- JSON) is kept beside the text actor column, which for a person holds "user:" + subject.
-- NULL for every earlier row: those actors are key ids, "cli" or "secret-scanning".
ALTER TABLE api_keys ADD COLUMN created_by_user TEXT;
ALTER TABLE api_key_events ADD COLUMN actor_user TEXT;
