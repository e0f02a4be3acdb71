# كلمات إسناد بالعربية — isnad's own words in Arabic: the same ids and variables as `en.ftl`
# (checked by the tests of `src/labels.rs`). Counted nouns follow Arabic's plural categories
# (zero, one, two, few = 3–10, many = 11–99, other = 100 and up), which Fluent selects from
# the number. Every message starts with an Arabic word or a neutral sign, so it reads right to
# left wherever it is shown (also checked). Discord's interface has no Arabic, so the names of
# its permissions and settings stay in English in parentheses, as members see them there.

## الجواب أينما عُرض

-more-sources = المزيد من المصادر
answer-label = الجواب
gloss-label = شرح بالإنجليزية كلمةً كلمة (ليس ترجمة)
names-label = الأسماء
sources-differ-note = المصادر مختلفة: تذكر الوثائق قيمًا مختلفة.
no-answer-note = لا تجيب الوثائق عن هذا السؤال.
passage-label = المقطع
score-label = الدرجة
value-with-documents = { $value } ({ $documents ->
        [one] وثيقة واحدة
        [two] وثيقتان
        [few] { $documents } وثائق
       *[other] { $documents } وثيقة
    })

## بطاقة الجواب (ديسكورد)

not-found-title = ليس في الوثائق
not-found-text = لا تتناول الوثائق هذا، فلن أخمّن. جرّب كلمات أخرى، أو انظر `/sources` لترى ما أعرفه.
from-documents-title = من الوثائق
card-gloss = *شرح بالإنجليزية كلمةً كلمة:* { $gloss }
card-sources-differ = المصادر مختلفة
card-quoted = مقتبس من المصدر:
card-quoted-more = مقتبس من المصدر ({ $more ->
        [one] مقطع آخر
        [two] مقطعان آخران
        [few] { $more } مقاطع أخرى
        [many] { $more } مقطعًا آخر
       *[other] { $more } مقطع آخر
    } في **{ -more-sources }**؛ { $documents ->
        [one] وثيقة واحدة
        [two] وثيقتان
        [few] { $documents } وثائق
       *[other] { $documents } وثيقة
    } في المجموع):
card-only-from = *من هذه الوثيقة فقط: { $title }*
citation-name = [{ $n }] { $title } · المقطع { $passage }
more-sources-title = { -more-sources }
more-sources-none = لا يجيب مقطع آخر عن هذا السؤال.
button-more = { -more-sources }
button-pin = تثبيت
button-source = المصدر

## بطاقات أخرى

sources-title = { $documents ->
        [zero] لا وثائق
        [one] وثيقة واحدة
        [two] وثيقتان
        [few] { $documents } وثائق
       *[other] { $documents } وثيقة
    }، { $passages ->
        [zero] لا مقاطع
        [one] مقطع واحد
        [two] مقطعان
        [few] { $passages } مقاطع
        [many] { $passages } مقطعًا
       *[other] { $passages } مقطع
    }
sources-line = • { $title } — { $language }، { $passages ->
        [one] مقطع واحد
        [two] مقطعان
        [few] { $passages } مقاطع
        [many] { $passages } مقطعًا
       *[other] { $passages } مقطع
    }
sources-none = لم تُحمَّل أي وثيقة.
sources-rejected = ملفات تعذّر تحميلها ({ $files }):
about-title = إسناد — أجوبة بسلسلة مصادرها
about-text =
    أجيب عن الأسئلة من { $documents ->
        [one] وثيقة واحدة
        [two] وثيقتين
        [few] { $documents } وثائق
       *[other] { $documents } وثيقة
    } ({ $passages ->
        [one] مقطع واحد
        [two] مقطعان
        [few] { $passages } مقاطع
        [many] { $passages } مقطعًا
       *[other] { $passages } مقطع
    }) اختارها مشرفو هذا الخادم، بالعربية أو بالإنجليزية. لا أكتب الأجوبة: أجد الجملة التي تجيب وأقتبسها كما هي، مع وثيقتها ومقطعها، وأقول متى تختلف الوثائق ومتى لا تتناول سؤالًا.

    اسأل بـ `/ask`، أو بالإشارة إليّ، أو في رسالة خاصة. يعرض `/sources` الوثائق. كل شيء يعمل دون اتصال على خادم هذا البوت؛ لا يغادره أي سؤال.
reindex-title = إعادة الفهرسة
reindex-rebuilt = أُعيد بناء الفهرس — { $documents ->
        [zero] لا وثائق
        [one] وثيقة واحدة
        [two] وثيقتان
        [few] { $documents } وثائق
       *[other] { $documents } وثيقة
    }، { $passages ->
        [zero] لا مقاطع
        [one] مقطع واحد
        [two] مقطعان
        [few] { $passages } مقاطع
        [many] { $passages } مقطعًا
       *[other] { $passages } مقطع
    }.
reindex-unchanged = الفهرس محدَّث — { $documents ->
        [zero] لا وثائق
        [one] وثيقة واحدة
        [two] وثيقتان
        [few] { $documents } وثائق
       *[other] { $documents } وثيقة
    }، { $passages ->
        [zero] لا مقاطع
        [one] مقطع واحد
        [two] مقطعان
        [few] { $passages } مقاطع
        [many] { $passages } مقطعًا
       *[other] { $passages } مقطع
    }.
reindex-rejected = ملفات مرفوضة ({ $files }):
report-title = الأسئلة والآراء
report-all-answered = أُجيب عن كل سؤال حتى الآن.
report-unanswered = **لم يُجَب عنها** (عدد مرات السؤال):
report-downvoted = **وُصفت بأنها غير مفيدة**:
settings-title = إعدادات هذا الخادم
settings-channels = القنوات
settings-every-channel = كل قناة أستطيع رؤيتها
settings-mentions = الإشارات
settings-mention-needed = يشير إليّ الأعضاء (أو يردّون على أجوبتي) ليسألوا
settings-every-message = كل رسالة في تلك القنوات سؤال
settings-every-message-unseen = كل رسالة في تلك القنوات سؤال — لكني أعمل دون صلاحية قراءة محتوى الرسائل (Message Content)، فلا أرى إلا الرسائل التي تشير إليّ
settings-ask-answers = أجوبة /ask
settings-private = خاصة ما لم يختر السائل غير ذلك
settings-public = علنية ما لم يختر السائل الخصوصية
settings-language = اللغة
settings-language-value = { $language } للردود التي بلا سؤال (/sources و/settings والأزرار)؛ أما الأجوبة فبلغة السؤال
settings-footer = غيّرها بـ /settings set و/settings language (إدارة الخادم).
language-en = الإنجليزية
language-ar = العربية

## الردود والاعتذارات

refusal-empty = اكتب سؤالًا من فضلك، مثلًا `/ask question: كم عدد الأعضاء؟`
refusal-too-long = طول هذا السؤال { $length ->
        [few] { $length } أحرف
        [many] { $length } حرفًا
       *[other] { $length } حرف
    }؛ اجعله أقل من { $max } من فضلك.
refusal-failed = حدث خطأ أثناء البحث في الوثائق؛ سُجّل الخطأ.
elsewhere = أجيب عن الأسئلة في هذا الخادم في { $channels }.
private-anywhere = النسخة الخاصة تعمل في أي مكان.
wait = ⏳ لحظة — يمكنك السؤال مجددًا بعد { $seconds ->
        [one] ثانية واحدة
        [two] ثانيتين
        [few] { $seconds } ثوانٍ
       *[other] { $seconds } ثانية
    }.
no-such-document = لا توجد وثيقة «{ $document }» — اختر واحدة من القائمة.
message-without-text = ليس في تلك الرسالة نص أستطيع البحث عنه.
answered-below = أجبت تحت الرسالة.
could-not-post = لم أستطع نشر الجواب في هذه القناة (ربما تنقصني صلاحية إرسال الرسائل، Send Messages، هنا).
settings-not-saved = لم أستطع حفظ الإعدادات، فلم يتغير شيء. سُجّل الخطأ.
reindex-failed = فشلت إعادة الفهرسة، وما زال الفهرس السابق يجيب: { $error }
needs-manage-server = لا يفعل هذا إلا الأعضاء الذين لديهم صلاحية إدارة الخادم (Manage Server).
server-only = يعمل هذا الأمر في خادم، لا في الرسائل الخاصة.
command-failed = حدث خطأ؛ سُجّل الخطأ.
not-an-answer = هذه الرسالة ليست جوابًا أستطيع التصرف فيه.
feedback-recorded = شكرًا — سُجّل رأيك.
feedback-failed = عذرًا، لم أستطع تسجيل ذلك الآن.
pin-refused = لا يثبّت الأجوبة إلا الأعضاء الذين لديهم صلاحية تثبيت الرسائل (Pin Messages).
pin-not-here = تُثبَّت الأجوبة في قناة خادم، لا هنا.
pin-check-failed = لم أستطع التحقق من صلاحياتك الآن؛ حاول مجددًا من فضلك.
pinned = 📌 ثُبّت الجواب.
pin-bot-lacks = ليست لديّ صلاحية **تثبيت الرسائل** (Pin Messages) في هذه القناة؛ يستطيع مشرف الخادم منحي إياها.
pin-failed = لم أستطع تثبيت هذه الرسالة؛ سُجّل الخطأ.

## أوصاف الأوامر وخياراتها: تُسجَّل «الإنجليزية · العربية» في وصف واحد لا يتجاوز 100 حرف.

cmd-ask = اسأل عن الوثائق
cmd-ask-question = سؤالك بالعربية أو بالإنجليزية
cmd-ask-private = لا يرى الجواب غيرك
cmd-ask-document = أجب من هذه الوثيقة فقط
cmd-sources = الوثائق التي أجيب منها
cmd-about = ما هذا البوت وكيف يجيب
cmd-report = أسئلة بلا جواب وآراء الأعضاء
cmd-reindex = أعد بناء الفهرس الآن
cmd-settings = كيف أجيب في هذا الخادم
cmd-settings-show = اعرض إعدادات هذا الخادم
cmd-settings-set = غيّر إعدادات هذا الخادم
cmd-settings-set-private_answers = أجب عن /ask بخصوصية افتراضيًا
cmd-settings-set-mention_needed = على الأعضاء الإشارة إليّ ليسألوا
cmd-settings-set-add_channel = أجب في هذه القناة أيضًا
cmd-settings-set-remove_channel = توقف عن الإجابة في هذه القناة
cmd-settings-set-all_channels = أجب في كل القنوات مجددًا
cmd-settings-language = لغة الردود التي بلا سؤال
cmd-settings-language-language = العربية أو الإنجليزية

## /knowledge: وثائق يضيفها الخادم

upload-wrong-extension = لا يُضاف إلا ملف `.md` أو `.txt`، و{ $name } ليس أيًّا منهما. لم يُحفظ شيء.
upload-too-large = الملف { $name } أكبر من { $max } التي يقبلها هذا البوت (`ISNAD_UPLOAD_MAX_BYTES`). لم يُحفظ شيء.
upload-wrong-type = الملف { $name } من نوع { $kind }، وليس ملفًا نصيًّا؛ لا يُضاف إلا نص `.md` أو `.txt`. لم يُحفظ شيء.
upload-not-text = لا يمكن إضافة { $name }: { $reason }. لم يُحفظ شيء.
upload-duplicate = لدى هذا الخادم هذا النص من قبل، باسم { $title }.
upload-full = لدى هذا الخادم { $max } وثيقة مرفوعة، وهي أقصى ما يمكن؛ احذف واحدة بـ `/knowledge remove` أولًا.
upload-unknown = لا ملف مرفوعًا باسم { $name } في هذا الخادم — اختر من القائمة.
upload-fetch = تعذّر عليّ جلب الملف من ديسكورد ({ $reason })؛ لم يُحفظ شيء.
upload-failed = تعذّر عليّ حفظ الملف أو فهرسته؛ لم يتغير شيء، وسُجّل الخطأ.
uploads-title = { $count ->
        [zero] لم يُضف هذا الخادم وثائق
        [one] وثيقة واحدة أضافها هذا الخادم
        [two] وثيقتان أضافهما هذا الخادم
        [few] { $count } وثائق أضافها هذا الخادم
       *[other] { $count } وثيقة أضافها هذا الخادم
    }
uploads-none = لم يُضف هذا الخادم وثائق؛ أجيب من الوثائق المشتركة وحدها.
uploads-line = • { $title } — { $file }، { $size }
uploads-when = ، { $when }
uploads-by = { " " }أضافها { $user }
uploads-footer = أضف بـ /knowledge add (ملف .md أو .txt بترميز UTF-8 حتى { $max })؛ واحذف بـ /knowledge remove.
upload-added-title = أُضيفت الوثيقة
upload-removed-title = حُذفت الوثيقة
upload-added = أُضيفت { $title } ({ $file }). صارت أسئلة هذا الخادم تستعملها أيضًا: { $documents ->
        [one] وثيقة واحدة
        [two] وثيقتان
        [few] { $documents } وثائق
       *[other] { $documents } وثيقة
    }، { $passages } مقطع.
upload-removed = حُذفت { $title }. تستعمل أسئلة هذا الخادم { $documents ->
        [one] وثيقة واحدة
        [two] وثيقتين
        [few] { $documents } وثائق
       *[other] { $documents } وثيقة
    }، { $passages } مقطع.
upload-removed-last = حُذفت { $title }. لم يبق لهذا الخادم ملفات مرفوعة؛ أجيب من الوثائق المشتركة.
cmd-knowledge = وثائق يضيفها هذا الخادم
cmd-knowledge-add = أضف ملف .md أو .txt إلى وثائق هذا الخادم
cmd-knowledge-add-file = ملف .md أو .txt، نص UTF-8
cmd-knowledge-add-title = العنوان في الأجوبة (افتراضيًا: عنوان الملف)
cmd-knowledge-list = اعرض الوثائق التي أضافها هذا الخادم
cmd-knowledge-remove = احذف وثيقة أضافها هذا الخادم
cmd-knowledge-remove-document = الوثيقة المراد حذفها

## وضع السلاسل في /settings

settings-threads = السلاسل
settings-threads-none = لا شيء: أجيب في القناة نفسها
settings-threads-in = لكل سؤال في { $channels } سلسلة خاصة به؛ والمتابعات فيها لا تحتاج إلى إشارة
settings-threads-in-mention = لكل سؤال في { $channels } سلسلة خاصة به؛ والمتابعات فيها تحتاج إلى إشارة: أعمل دون صلاحية محتوى الرسائل (Message Content)
scope-gone = الوثيقة التي اقتصر عليها هذا الجواب لم تعد بين مصادري.
cmd-settings-set-threads_in = أجب عن كل سؤال هنا في سلسلة جديدة
cmd-settings-set-no_threads_in = أجب في هذه القناة نفسها مجددًا، دون سلاسل

## لماذا لم يُحمَّل ملف من ملفات المعرفة (`/sources` و`/reindex` و`/knowledge add`)

reason-unreadable = تتعذّر قراءته (خطأ النظام في السجل)
reason-too-large = حجمه { $size } بايت، وهذا أكبر من { $max } بايت المسموح بها للوثيقة
reason-binary = ملف ثنائي، لا نص
reason-not-utf8 = ليس نصًا بترميز `UTF-8` (بدءًا من البايت { $at })
reason-windows-1256 = ليس نصًا بترميز `UTF-8` (بدءًا من البايت { $at })؛ ويبدو نصًا عربيًا بترميز `Windows-1256`: حوّله بالأمر `iconv -f WINDOWS-1256 -t UTF-8`
reason-empty = فارغ: لا نص بعد الترويسة
reason-unclosed-front-matter = ترويسته `{ $format }` لا يغلقها سطر `{ $fence }`
reason-bad-front-matter = تتعذّر قراءة ترويسته `{ $format }`: `{ $error }`
reason-symbolic-link = رابط رمزي، ولا أتبع الروابط الرمزية
reason-symbolic-link-folder = رابط رمزي إلى مجلد، ولا أتبع الروابط الرمزية
reason-other = تعذّر تحميله (السبب في السجل)
reason-kept = { $reason }؛ وما زلت أجيب من آخر نسخة سليمة منه
upload-unstorable = لا يمكن إضافة { $name }: يتعذّر حفظ عنوانه أو بياناته الأخرى معه. لم يُحفظ شيء.
upload-not-indexed = اجتاز { $name } كل الفحوص لكن الفهرس لم يأخذه؛ لم يُحفظ شيء، وسُجّل الخطأ.
answered-in-thread = أجبت في سلسلة على الرسالة.

## لماذا فشل المحرك (`/reindex`)؛ والتفاصيل في السجل

error-knowledge-unreadable = تتعذّر قراءة مجلد المعرفة
error-knowledge-not-a-folder = مجلد المعرفة ليس مجلدًا
error-disk-full = القرص ممتلئ
error-disk-read-only = القرص للقراءة فقط
error-no-permission = لا يُسمح لي بالكتابة في مجلد الفهرس
error-index-damaged = الفهرس المحفوظ على القرص تالف
error-other = خطأ غير متوقع، انظر السجل
