"""Stage templates and the defaults every workspace starts with.

Two templates (DESIGN.md): `act-on-lifecycle`, the five-stage lifecycle of seed 000 with
its key questions per stage, and `b2b-five-stage`, the five B2B stages of seed 002. Each
is written out in English and Japanese; stage keys are the same in both languages, so a
map started in Japanese reads the same to gaps, diagrams and the interchange format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max

from .changes import free_key
from .models import LANGUAGE_CODES, BuyingRole, Department, JourneyMap, Stage, Workspace

LANGUAGES = LANGUAGE_CODES

# (key, English name, Japanese name)
DEFAULT_DEPARTMENTS = (
    ("marketing", "Marketing", "マーケティング"),
    ("sales", "Sales", "営業"),
    ("service", "Service", "カスタマーサクセス"),
)
DEFAULT_ROLES = (
    ("decision-maker", "Decision maker", "意思決定者"),
    ("economic-buyer", "Economic buyer", "予算承認者"),
    ("champion", "Champion", "社内推進者（チャンピオン）"),
    ("influencer", "Influencer", "インフルエンサー"),
    ("technical-evaluator", "Technical evaluator", "技術評価者"),
    ("end-user", "End user", "エンドユーザー"),
    ("gatekeeper", "Gatekeeper", "ゲートキーパー"),
)


@dataclass(frozen=True)
class StageText:
    name: str
    goal: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class StageTemplate:
    key: str
    text: dict[str, StageText]  # language -> text
    lead: str = ""  # a department key; set only where the workspace has it
    contributors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Template:
    key: str
    names: dict[str, str]  # language -> display name
    stages: tuple[StageTemplate, ...] = field(default_factory=tuple)


# Seed 000 (Act-On, "Don't lose prospects: build a customer journey map"). Questions are
# the article's, one for one; each goal is the article's "your goal is ..." sentence.
# Leads follow its accountability section: marketing leads Attract to Nurture, sales
# leads Convert, and Expand is shared by sales, service and marketing.
ACT_ON_LIFECYCLE = Template(
    key="act-on-lifecycle",
    names={
        "en": "Act-On lifecycle (Attract, Capture, Nurture, Convert, Expand)",
        "ja": "Act-On ライフサイクル（集客・獲得・育成・コンバージョン・拡大）",
    },
    stages=(
        StageTemplate(
            key="attract",
            lead="marketing",
            text={
                "en": StageText(
                    "Attract",
                    "Build awareness and grow your audience with more impressions and deeper conversations.",
                    (
                        "Which channels are being used?",
                        "What content is being consumed?",
                        "How many people consumed content?",
                        "How often do content consumers share content?",
                    ),
                ),
                "ja": StageText(
                    "集客",
                    "認知度を高め、より多くのインプレッションとより深い対話を通じてオーディエンスを増やす。",
                    (
                        "どのチャネルが使われていますか？",
                        "どのようなコンテンツが読まれていますか？",
                        "何人がコンテンツを閲覧しましたか？",
                        "閲覧者はどのくらいの頻度でコンテンツを共有していますか？",
                    ),
                ),
            },
        ),
        StageTemplate(
            key="capture",
            lead="marketing",
            text={
                "en": StageText(
                    "Capture",
                    "Increase the number of known prospects in the funnel and learn as much as possible about them.",
                    (
                        "How many content consumers have become known visitors?",
                        "Which calls to action work best, and with which audiences?",
                        "Which channels are most effective?",
                    ),
                ),
                "ja": StageText(
                    "リード獲得",
                    "ファネル内の既知の見込み客を増やし、見込み客についてできるだけ多くの知見を得る。",
                    (
                        "コンテンツ閲覧者のうち、何人が既知の訪問者になりましたか？",
                        "最も効果的な行動喚起（CTA）はどれですか？どのオーディエンスに効いていますか？",
                        "最も効果的なチャネルはどれですか？",
                    ),
                ),
            },
        ),
        StageTemplate(
            key="nurture",
            lead="marketing",
            contributors=("sales",),
            text={
                "en": StageText(
                    "Nurture",
                    "Build the relationship through timed touches so that prospects are "
                    "ready to buy when they need to.",
                    (
                        "How many marketing qualified leads are being generated?",
                        "Which automated programs are most effective?",
                        "What is driving lead scores up?",
                    ),
                ),
                "ja": StageText(
                    "育成",
                    "計画的な接点を重ねて関係を築き、必要なときに購入できる状態まで見込み客を育てる。",
                    (
                        "マーケティング・クオリファイド・リード（MQL）は何件生まれていますか？",
                        "最も効果的な自動化プログラムはどれですか？",
                        "リードスコアを押し上げているのは何ですか？",
                    ),
                ),
            },
        ),
        StageTemplate(
            key="convert",
            lead="sales",
            contributors=("marketing",),
            text={
                "en": StageText(
                    "Convert",
                    "Create more high-quality leads at a lower cost per lead and cost per customer.",
                    (
                        "How many sales qualified leads are being generated?",
                        "Which campaigns are most effective at closing deals?",
                        "How often do content consumers become customers?",
                    ),
                ),
                "ja": StageText(
                    "コンバージョン",
                    "リード単価と顧客獲得単価を抑えながら、より質の高いリードを生み出す。",
                    (
                        "セールス・クオリファイド・リード（SQL）は何件生まれていますか？",
                        "商談の成約に最も効果的なキャンペーンはどれですか？",
                        "コンテンツ閲覧者はどのくらいの頻度で顧客になっていますか？",
                    ),
                ),
            },
        ),
        StageTemplate(
            key="expand",
            lead="service",
            contributors=("sales", "marketing"),
            text={
                "en": StageText(
                    "Expand",
                    "Deepen relationships with existing customers to raise their lifetime "
                    "value and turn them into evangelists who recommend you to others.",
                    (
                        "How many resells, upsells and cross-sells are happening?",
                        "Which customer marketing campaigns and programs are most effective?",
                        "How often do customers become repeat buyers?",
                        "Which loyalty programs deliver the best results?",
                        "How much revenue comes from existing customers?",
                    ),
                ),
                "ja": StageText(
                    "拡大",
                    "既存顧客との関係を深めて顧客生涯価値を高め、ブランドを他の人に勧めてくれる"
                    "エバンジェリストになってもらう。",
                    (
                        "再購入・アップセル・クロスセルは何件発生していますか？",
                        "最も効果的な既存顧客向けマーケティングのキャンペーンやプログラムは何ですか？",
                        "顧客はどのくらいの頻度でリピーターになっていますか？",
                        "最も成果を上げているロイヤルティプログラムはどれですか？",
                        "既存顧客からの収益はどれくらいですか？",
                    ),
                ),
            },
        ),
    ),
)

# Seed 002 (Matomo, "B2B customer journey map"). The article gives each stage what the
# buyer is doing and the content that helps; the questions ask exactly that. Leads are
# our reading of it: sales gives the demos of Consideration, customer service carries
# Loyalty's follow-ups, and referral programs are customer marketing.
B2B_FIVE_STAGE = Template(
    key="b2b-five-stage",
    names={
        "en": "B2B five stages (Awareness, Consideration, Conversion, Loyalty, Advocacy)",
        "ja": "B2B 5段階（認知・検討・コンバージョン・ロイヤルティ・推奨）",
    },
    stages=(
        StageTemplate(
            key="awareness",
            lead="marketing",
            text={
                "en": StageText(
                    "Awareness",
                    "Stand out from competitors and make a good first impression on buyers "
                    "who are actively trying to solve a problem.",
                    (
                        "What problem is the buyer trying to solve?",
                        "Where do buyers look first: blog posts, social media, ebooks or white papers?",
                        "What sets our first impression apart from competitors?",
                    ),
                ),
                "ja": StageText(
                    "認知",
                    "課題の解決策を積極的に探している買い手に良い第一印象を与え、競合他社と差をつける。",
                    (
                        "買い手はどのような課題を解決しようとしていますか？",
                        "買い手はまずどこで情報を探しますか（ブログ記事、ソーシャルメディア、"
                        "電子書籍、ホワイトペーパー）？",
                        "第一印象で競合他社と差をつけるものは何ですか？",
                    ),
                ),
            },
        ),
        StageTemplate(
            key="consideration",
            lead="sales",
            contributors=("marketing",),
            text={
                "en": StageText(
                    "Consideration",
                    "Remove the objections and doubts in the buyer's mind and earn their "
                    "trust while they shortlist vendors.",
                    (
                        "Which objections and doubts keep buyers from choosing us?",
                        "Who among the 6-10 people in the buying group must be convinced, "
                        "and how much influence does each have?",
                        "Which product demos, webinars and case studies build trust?",
                    ),
                ),
                "ja": StageText(
                    "検討",
                    "候補を絞り込んでいる買い手の異議や疑念を取り除き、信頼を得る。",
                    (
                        "買い手が当社を選ぶのをためらう異議や疑念は何ですか？",
                        "購買に関わる6〜10人のうち誰を納得させる必要があり、それぞれの影響力はどの程度ですか？",
                        "信頼を築くのはどの製品デモ、ウェビナー、ケーススタディですか？",
                    ),
                ),
            },
        ),
        StageTemplate(
            key="conversion",
            lead="sales",
            contributors=("marketing", "service"),
            text={
                "en": StageText(
                    "Conversion",
                    "Help the buyer compare every option and choose us, then make signing easy.",
                    (
                        "What does the buyer still need in order to compare the options?",
                        "Which case studies, live demos and customer reviews tip the decision?",
                        "Where in the funnel do buyers drop out before they buy?",
                    ),
                ),
                "ja": StageText(
                    "コンバージョン",
                    "買い手がすべての選択肢を比較したうえで当社を選べるよう支援し、契約までをスムーズにする。",
                    (
                        "選択肢を比較するために、買い手にまだ足りない情報は何ですか？",
                        "決め手になるのはどのケーススタディ、ライブデモ、お客様の声ですか？",
                        "購入前に買い手はファネルのどこで離脱していますか？",
                    ),
                ),
            },
        ),
        StageTemplate(
            key="loyalty",
            lead="service",
            contributors=("marketing", "sales"),
            text={
                "en": StageText(
                    "Loyalty",
                    "Deepen the relationship after the first purchase, ask for feedback and "
                    "reward loyalty so that customers come back.",
                    (
                        "How many customers buy again after their first purchase?",
                        "What does customer feedback say about satisfaction?",
                        "Which follow-up emails and calls, how-tos and reward programs bring customers back?",
                    ),
                ),
                "ja": StageText(
                    "ロイヤルティ",
                    "初回購入後も関係を深め、フィードバックを求め、ロイヤルティに報いることで"
                    "リピーターになってもらう。",
                    (
                        "初回購入の後、再び購入する顧客はどのくらいいますか？",
                        "顧客からのフィードバックは満足度について何を示していますか？",
                        "顧客の再購入につながるのはどのフォローアップメールや電話、ハウツー、特典プログラムですか？",
                    ),
                ),
            },
        ),
        StageTemplate(
            key="advocacy",
            lead="marketing",
            contributors=("service",),
            text={
                "en": StageText(
                    "Advocacy",
                    "Exceed expectations again and again so that customers actively recommend us to others.",
                    (
                        "Which customers get far more value than they feel they gave?",
                        "How many customers give testimonials or refer others?",
                        "Which surveys, testimonial requests and referral programs turn loyal "
                        "customers into advocates?",
                    ),
                ),
                "ja": StageText(
                    "推奨",
                    "顧客の期待を何度も上回り、顧客が自ら他の人に当社を勧めてくれる状態をつくる。",
                    (
                        "支払った以上の価値をはっきり感じている顧客は誰ですか？",
                        "お客様の声の提供や紹介をしてくれる顧客は何社ありますか？",
                        "ロイヤルな顧客を推奨者に変えるのはどのアンケート、体験談の依頼、紹介プログラムですか？",
                    ),
                ),
            },
        ),
    ),
)

TEMPLATES: dict[str, Template] = {t.key: t for t in (ACT_ON_LIFECYCLE, B2B_FIVE_STAGE)}


def template_choices(language: str = "en") -> list[tuple[str, str]]:
    """(key, display name) of every template, for a form's choices."""
    _check_language(language)
    return [(template.key, template.names[language]) for template in TEMPLATES.values()]


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f'unknown language "{language}" (choose from {", ".join(LANGUAGES)})')


def _get_template(template_key: str) -> Template:
    try:
        return TEMPLATES[template_key]
    except KeyError:
        raise ValueError(f'unknown stage template "{template_key}" (choose from {", ".join(TEMPLATES)})') from None


def ensure_workspace_defaults(workspace: Workspace, language: str = "en") -> None:
    """Create the default departments and buying roles the workspace lacks.

    Matched by key and never updated: a team that renamed "Service" to "Customer
    success" keeps its name however often this runs.
    """
    _check_language(language)
    name_index = LANGUAGES.index(language) + 1
    for model, defaults in ((Department, DEFAULT_DEPARTMENTS), (BuyingRole, DEFAULT_ROLES)):
        for order, row in enumerate(defaults):
            model.objects.get_or_create(
                workspace=workspace,
                key=row[0],
                defaults={"name": row[name_index], "order": order},
            )


def apply_template(journey_map: JourneyMap, template_key: str, language: str) -> list[Stage]:
    """Append the template's stages after the map's existing stages; return them.

    A key the map already uses gets a suffix (`attract-2`), so applying a template
    twice adds a second set of stages rather than failing.
    """
    template = _get_template(template_key)
    _check_language(language)
    departments = {dept.key: dept for dept in journey_map.workspace.departments.all()}
    with transaction.atomic():
        taken = set(journey_map.stages.values_list("key", flat=True))
        last = journey_map.stages.aggregate(last=Max("order"))["last"]
        first_order = 0 if last is None else last + 1
        return [
            _create_stage(journey_map, stage, language, departments, taken, first_order + i)
            for i, stage in enumerate(template.stages)
        ]


def _create_stage(
    journey_map: JourneyMap,
    template: StageTemplate,
    language: str,
    departments: dict[str, Department],
    taken: set[str],
    order: int,
) -> Stage:
    text = template.text[language]
    key = free_key(template.key, taken)
    taken.add(key)
    stage = Stage.objects.create(
        map=journey_map,
        key=key,
        name=text.name,
        goal=text.goal,
        questions=list(text.questions),
        lead=departments.get(template.lead),
        order=order,
    )
    contributors = [departments[k] for k in template.contributors if k in departments]
    if contributors:
        stage.contributors.set(contributors)
    return stage
