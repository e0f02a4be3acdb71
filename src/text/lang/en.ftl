# isnad's own words in English: the labels around an answer (CLI and Discord), the bot's cards,
# replies, refusals and buttons, and the slash commands' descriptions. Project Fluent syntax
# (https://projectfluent.org/fluent/guide/); `ar.ftl` has the same ids and variables (checked by
# the tests of `src/labels.rs`). Markdown in a message is Discord's (bold `**`, code `` ` ``);
# text that comes from users or documents arrives escaped in the variables.

## The answer, wherever it is shown

-more-sources = More sources
answer-label = Answer
gloss-label = Gloss (word by word, not a translation)
names-label = names
sources-differ-note = Sources differ: the documents give different values.
no-answer-note = The documents do not answer this question.
passage-label = passage
score-label = score
# One value of a short answer when the documents differ, with how many documents give it.
value-with-documents = { $value } ({ $documents } { $documents ->
        [one] document
       *[other] documents
    })

## The answer card (Discord)

not-found-title = Not in the documents
not-found-text = The documents don't cover this, so I won't guess. Try other words, or see `/sources` for what I know.
from-documents-title = From the documents
card-gloss = *Gloss, word by word:* { $gloss }
card-sources-differ = Sources differ
card-quoted = Quoted from the source:
card-quoted-more = Quoted from the source ({ $more } more with **{ -more-sources }**; { $documents } document(s) in all):
card-only-from = *Only from: { $title }*
citation-name = [{ $n }] { $title } · passage { $passage }
more-sources-title = { -more-sources }
more-sources-none = No other passage answers this question.
button-more = { -more-sources }
button-pin = Pin
button-source = Source

## Other cards

sources-title = { $documents } document(s), { $passages } passages
sources-line = • { $title } — { $language }, { $passages } passages
sources-none = No documents are loaded.
sources-rejected = { $files } file(s) could not be loaded:
about-title = isnad — answers with their chain of citation
about-text =
    I answer questions from { $documents } document(s) ({ $passages } passages) that this server's moderators chose, in English or Arabic. I don't write answers: I find the sentence that answers and quote it exactly, with its document and passage, and I say when documents disagree or when they don't cover a question.

    Ask with `/ask`, by mentioning me, or in a direct message. `/sources` lists the documents. Everything runs offline on this bot's host; no question leaves it.
reindex-title = Reindex
reindex-rebuilt = Index rebuilt — { $documents } document(s), { $passages } passages.
reindex-unchanged = Index already up to date — { $documents } document(s), { $passages } passages.
reindex-rejected = { $files } file(s) rejected:
report-title = Questions and feedback
report-all-answered = Every question so far was answered.
report-unanswered = **Not answered** (times asked):
report-downvoted = **Marked unhelpful**:
settings-title = Settings for this server
settings-channels = Channels
settings-every-channel = every channel I can see
settings-mentions = Mentions
settings-mention-needed = members mention me (or reply to my answers) to ask
settings-every-message = every message in those channels is a question
settings-every-message-unseen = every message in those channels is a question — but I run without the Message Content intent, so I only see messages that mention me
settings-ask-answers = /ask answers
settings-private = private unless the asker chooses otherwise
settings-public = public unless the asker chooses private
settings-language = Language
settings-language-value = { $language } for replies without a question (/sources, /settings, buttons); answers follow the language of the question
settings-footer = Change with /settings set and /settings language (Manage Server).
language-en = English
language-ar = Arabic

## Replies and refusals

refusal-empty = Please write a question, for example `/ask question: how many members are there?`
refusal-too-long = That question is { $length } characters long; please keep it under { $max }.
refusal-failed = Something went wrong while searching the documents; the error was logged.
elsewhere = In this server I answer questions in { $channels }.
private-anywhere = The private variant works anywhere.
wait = ⏳ One moment — you can ask again in { $seconds } s.
no-such-document = No document “{ $document }” — pick one from the list.
message-without-text = That message has no text I can search for.
answered-below = Answered below the message.
could-not-post = I could not post the answer in this channel (I may lack Send Messages here).
settings-not-saved = I could not save the settings; nothing changed. The error was logged.
reindex-failed = Reindex failed, the previous index is still answering: { $error }
needs-manage-server = Only members with the Manage Server permission can do that.
server-only = This command works in a server, not in direct messages.
command-failed = Something went wrong; the error was logged.
not-an-answer = This message is not an answer I can act on.
feedback-recorded = Thanks — your feedback was recorded.
feedback-failed = Sorry, I could not record that just now.
pin-refused = Only members with the Pin Messages permission can pin answers.
pin-not-here = Answers can be pinned in a server channel, not here.
pin-check-failed = I could not check your permissions just now; please try again.
pinned = 📌 Pinned.
pin-bot-lacks = I don't have the **Pin Messages** permission in this channel; a server admin can grant it to me.
pin-failed = I could not pin this message; the error was logged.

## Slash command and option descriptions. Discord has no Arabic client locale, so each is
## registered as "English · Arabic" in one description of at most 100 characters (checked by
## a test of `src/discord/commands.rs`). Ids: `cmd-` + command path + option name.

cmd-ask = Ask a question about the documents
cmd-ask-question = Your question, in English or Arabic
cmd-ask-private = Only you see the answer
cmd-ask-document = Answer from this document only
cmd-sources = List the documents I answer from
cmd-about = What this bot is and how it answers
cmd-report = Unanswered questions and feedback
cmd-reindex = Rebuild the index now
cmd-settings = How I answer in this server
cmd-settings-show = Show this server's settings
cmd-settings-set = Change this server's settings
cmd-settings-set-private_answers = Answer /ask privately by default
cmd-settings-set-mention_needed = Members must mention me to ask
cmd-settings-set-add_channel = Also answer in this channel
cmd-settings-set-remove_channel = Stop answering in this channel
cmd-settings-set-all_channels = Answer in every channel again
cmd-settings-language = Language of replies without a question
cmd-settings-language-language = English or Arabic

## /knowledge: documents a server adds (`src/discord/uploads.rs`, `upload_commands.rs`)

upload-wrong-extension = Only `.md` and `.txt` files can be added; { $name } is neither. Nothing was stored.
upload-too-large = { $name } is larger than the { $max } this bot accepts (`ISNAD_UPLOAD_MAX_BYTES`). Nothing was stored.
upload-wrong-type = { $name } is { $kind }, not a text file; only `.md` and `.txt` text can be added. Nothing was stored.
upload-not-text = { $name } cannot be added: { $reason }. Nothing was stored.
upload-duplicate = This server already has that text, as { $title }.
upload-full = This server already has { $max } uploaded documents, the most it can have; remove one with `/knowledge remove` first.
upload-unknown = No upload { $name } in this server — pick one from the list.
upload-fetch = I could not fetch the file from Discord ({ $reason }); nothing was stored.
upload-failed = I could not store or index that file; nothing changed, and the error was logged.
uploads-title = { $count } document(s) added in this server
uploads-none = This server has added no documents; I answer from the shared ones only.
uploads-line = • { $title } — { $file }, { $size }
uploads-when = , { $when }
uploads-by = { " " }by { $user }
uploads-footer = Add with /knowledge add (.md or .txt, UTF-8, up to { $max }); remove with /knowledge remove.
upload-added-title = Document added
upload-removed-title = Document removed
upload-added = Added { $title } ({ $file }). Questions in this server now also use it: { $documents } document(s), { $passages } passages.
upload-removed = Removed { $title }. Questions in this server use { $documents } document(s), { $passages } passages.
upload-removed-last = Removed { $title }. This server has no uploads left; I answer from the shared documents.
cmd-knowledge = Documents this server adds
cmd-knowledge-add = Add a .md or .txt file to this server's documents
cmd-knowledge-add-file = A .md or .txt file, UTF-8 text
cmd-knowledge-add-title = Title shown in answers (default: the file's own)
cmd-knowledge-list = List the documents this server added
cmd-knowledge-remove = Remove a document this server added
cmd-knowledge-remove-document = The document to remove

## thread mode in /settings

settings-threads = Threads
settings-threads-none = none: I answer in the channel
settings-threads-in = each question in { $channels } gets its own thread; follow-ups there need no mention
settings-threads-in-mention = each question in { $channels } gets its own thread; follow-ups there need a mention: I run without the Message Content intent
scope-gone = The document this answer was limited to is no longer among my sources.
cmd-settings-set-threads_in = Answer each question here in a new thread
cmd-settings-set-no_threads_in = Answer in this channel again, without threads

## Why a knowledge file is not loaded (`knowledge::Reason`: `/sources`, `/reindex`, `/knowledge add`)

reason-unreadable = it cannot be read (the log has the system's error)
reason-too-large = it is { $size } bytes, more than the { $max } bytes a document may have
reason-binary = it is a binary file, not text
reason-not-utf8 = it is not UTF-8 text (from byte { $at })
reason-windows-1256 = it is not UTF-8 text (from byte { $at }); it looks like Arabic in Windows-1256: convert it with `iconv -f WINDOWS-1256 -t UTF-8`
reason-empty = it is empty: no text after the front matter
reason-unclosed-front-matter = its `{ $format }` front matter is not closed by a `{ $fence }` line
reason-bad-front-matter = its `{ $format }` front matter does not parse: `{ $error }`
reason-symbolic-link = it is a symbolic link, which I do not follow
reason-symbolic-link-folder = it is a symbolic link to a folder, which I do not follow
reason-other = it could not be loaded (the log says why)
reason-kept = { $reason }; I still answer from its last good version
upload-unstorable = { $name } cannot be added: its title or other metadata cannot be stored with it. Nothing was stored.
upload-not-indexed = { $name } passed every check but the index did not take it; nothing was stored, and the error was logged.
answered-in-thread = Answered in a thread on the message.

## Why the engine failed (`/reindex`); the log has the details

error-knowledge-unreadable = the knowledge folder cannot be read
error-knowledge-not-a-folder = the knowledge folder is not a folder
error-disk-full = the disk is full
error-disk-read-only = the disk is read-only
error-no-permission = I may not write to the index folder
error-index-damaged = the index on disk is damaged
error-other = an unexpected error, see the log
