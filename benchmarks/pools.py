"""Word pools for the synthetic knowledge bases (all invented for this benchmark).

Each domain has its own nouns, qualifiers, settings and metrics, so titles inside a domain
share a vocabulary (as real ones do) while titles across domains do not. The shared pools
(verbs, predicates, reasons, scopes) give the sentences their shape.
"""

from __future__ import annotations

# folder -> domain -> (nouns, qualifiers, settings, metrics)
# nouns are singular or mass noun phrases, so they take a third-person singular verb.
DOMAINS: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "domains": {
        "urban-transit": (
            "bus lane enforcement|signal priority|fare capping|off-board payment|stop spacing|"
            "headway reliability|feeder service|park-and-ride capacity|platform crowding|"
            "tram right-of-way|bike share coverage|night service|route simplification|"
            "transfer penalty|depot electrification|dwell time|curb management|"
            "congestion pricing|timetable padding|driver rostering|microtransit|"
            "station access|ridership recovery|corridor upzoning|fare evasion",
            "peak-hour|suburban|cross-town|frequent|low-floor|all-door|radial|express|"
            "grid-based|on-demand|regional|downtown",
            "on congested arterials|in mid-sized cities|across grid networks|on radial lines|"
            "in low-density suburbs|during evening peaks|for shift workers|"
            "on routes under ten kilometres|in winter service periods|near rail interchanges",
            "travel time|ridership|operating cost per hour|on-time performance|"
            "boardings per revenue hour|transfer rate|fare recovery|crowding index",
        ),
        "soil-science": (
            "cover cropping|no-till drilling|soil organic carbon|mycorrhizal colonisation|"
            "nitrogen leaching|compaction from heavy axles|biochar amendment|crop rotation|"
            "earthworm density|aggregate stability|subsoil drainage|manure injection|"
            "salinity build-up|root exudation|phosphorus legacy|lime application|"
            "residue retention|microbial respiration|water infiltration|"
            "controlled traffic farming|terrace maintenance|peat oxidation|"
            "inoculant use|catch crop termination",
            "deep|sandy|clay-rich|irrigated|rain-fed|degraded|tropical|temperate|"
            "long-term|organic|acidic|alluvial",
            "on sandy loams|in semi-arid plots|after three seasons|under maize rotations|"
            "on sloping fields|in drained peatlands|across smallholder farms|"
            "in the top thirty centimetres|under reduced tillage|on rice paddies",
            "yield stability|carbon stock|runoff volume|nitrate loss|bulk density|"
            "infiltration rate|microbial biomass|fertiliser demand",
        ),
        "software-reliability": (
            "canary deployment|feature flagging|error budget policy|retry with backoff|"
            "circuit breaking|chaos testing|on-call rotation|blameless review|"
            "dependency pinning|schema migration|load shedding|autoscaling lag|"
            "alert fatigue|trace sampling|config drift|rollback tooling|"
            "queue backpressure|cache stampede|connection pooling|release train|"
            "incident command|synthetic probing|capacity headroom|staged rollout",
            "automated|manual|cross-region|stateful|stateless|legacy|multi-tenant|"
            "event-driven|latency-sensitive|batch|distributed|monolithic",
            "in multi-region services|during traffic spikes|for stateful workloads|"
            "in teams under twenty engineers|across microservice fleets|"
            "after major version upgrades|in payment systems|during holiday freezes|"
            "for read-heavy APIs|in regulated environments",
            "mean time to recovery|change failure rate|p99 latency|pager load|"
            "deployment frequency|availability|incident count|error rate",
        ),
        "public-health": (
            "vaccine outreach|community health workers|lead pipe replacement|"
            "heat action planning|clinic co-location|syndromic surveillance|"
            "school meal reform|tobacco taxation|contact tracing|air quality alerts|"
            "mobile screening|prenatal home visiting|water fluoridation|"
            "harm reduction services|hospital discharge planning|"
            "sugar-sweetened beverage taxation|falls prevention|"
            "measles catch-up campaigning|wastewater monitoring|"
            "immunisation reminders|active travel promotion|noise mapping|"
            "cold-chain logistics|peer support",
            "rural|urban|low-income|elderly|paediatric|preventive|targeted|universal|"
            "community-led|hospital-based|primary-care|regional",
            "in rural counties|among older adults|during heat waves|in informal settlements|"
            "for first-time parents|across low-income districts|in school-age children|"
            "after the first year of rollout|in coastal towns|among shift workers",
            "hospital admissions|coverage rate|mortality|emergency visits|"
            "blood lead level|case detection delay|cost per life-year|uptake",
        ),
        "energy-grids": (
            "battery storage dispatch|demand response|rooftop solar export|"
            "transmission congestion|capacity markets|heat pump adoption|"
            "grid-forming inverters|interconnection queues|time-of-use tariffs|"
            "offshore wind curtailment|pumped hydro|frequency regulation|"
            "distribution upgrades|vehicle-to-grid charging|long-duration storage|"
            "gas peaker retirement|nodal pricing|reserve margins|"
            "community microgrids|hydrogen electrolysis|line rating|"
            "inertia provision|load forecasting|substation automation",
            "variable|dispatchable|behind-the-meter|utility-scale|islanded|"
            "winter-peaking|summer-peaking|high-voltage|residential|merchant|"
            "regulated|interconnected",
            "in winter-peaking systems|on islanded grids|across interconnected markets|"
            "during evening ramps|at high renewable shares|in congested load pockets|"
            "for rural feeders|after coal retirements|in hot summers|"
            "at sub-hourly settlement",
            "curtailment rate|wholesale price volatility|loss of load hours|"
            "capacity factor|peak demand|ramp rate|system cost|emissions intensity",
        ),
        "ocean-fisheries": (
            "catch share allocation|bycatch reduction|marine protected areas|"
            "stock assessment|gear restriction|seasonal closure|vessel monitoring|"
            "kelp restoration|aquaculture siting|port state control|"
            "quota trading|trawl ban|spawning aggregation protection|"
            "fleet buyback|electronic logbooks|juvenile escapement|"
            "coral bleaching|acidification exposure|ghost gear recovery|"
            "reef fish recovery|subsidy reform|observer coverage|"
            "shellfish depuration|forage fish management",
            "small-scale|industrial|coastal|pelagic|demersal|migratory|"
            "community-managed|overexploited|data-poor|tropical|cold-water|artisanal",
            "in data-poor fisheries|across coastal villages|in upwelling zones|"
            "during warm years|on continental shelves|for small-scale fleets|"
            "within ten years of closure|in enclosed seas|near river mouths|"
            "across transboundary stocks",
            "spawning biomass|catch per unit effort|bycatch rate|landed value|"
            "fleet capacity|recruitment|compliance rate|fishing mortality",
        ),
        "housing-markets": (
            "inclusionary zoning|rent stabilisation|minimum lot sizes|"
            "accessory dwelling permits|vacancy taxation|mortgage rate lock-in|"
            "parking minimums|height limits|land value capture|"
            "public housing redevelopment|eviction moratoria|housing vouchers|"
            "modular construction|permit streamlining|short-term rental caps|"
            "community land trusts|construction labour shortage|"
            "impact fees|first-time buyer subsidy|density bonuses|"
            "tenant relocation aid|property tax assessment|"
            "build-to-rent investment|infill development",
            "low-income|mid-rise|single-family|multifamily|coastal|high-demand|"
            "shrinking|owner-occupied|rental|suburban|inner-city|regional",
            "in high-demand metros|across shrinking towns|near new rail stations|"
            "for renters under thirty|in coastal cities|after rate rises|"
            "within five years of upzoning|in university towns|for large families|"
            "across inner suburbs",
            "median rent|vacancy rate|permits issued|price-to-income ratio|"
            "displacement rate|construction cost|time to permit|overcrowding",
        ),
        "education-policy": (
            "class size reduction|structured literacy|teacher coaching|"
            "school start times|tutoring programmes|grade retention|"
            "early childhood enrolment|attendance nudging|curriculum alignment|"
            "school choice|vocational pathways|teacher pay differentials|"
            "summer learning|mother-tongue instruction|formative assessment|"
            "remote schooling|school consolidation|free school transport|"
            "principal turnover|mathematics tracking|homework policy|"
            "special education inclusion|digital device rollout|"
            "textbook provision",
            "primary|secondary|rural|urban|low-performing|public|charter|"
            "bilingual|high-poverty|vocational|selective|remedial",
            "in high-poverty schools|for early readers|across rural districts|"
            "during the first two grades|for multilingual learners|"
            "after pandemic closures|in large urban systems|for boys in lower secondary|"
            "within a single school year|across low-income countries",
            "reading scores|graduation rate|attendance|teacher retention|"
            "learning gains|dropout rate|test score gaps|enrolment",
        ),
    },
    "core": {
        "coordination": (
            "shared protocols|focal points|public commitment|reputation tracking|"
            "assurance contracts|coalition formation|trust bootstrapping|"
            "common knowledge|decision rights|conflict escalation|"
            "mediated bargaining|standard setting|free riding|collective budgeting|"
            "signalling cost|open agenda setting|delegation chains|"
            "consensus thresholds|veto power|monitoring rotation|"
            "side payments|joint forecasting|mutual insurance|task handoff",
            "decentralised|voluntary|repeated|anonymous|federated|ad hoc|"
            "hierarchical|informal|cross-border|multi-party|open|closed",
            "in groups above fifty members|across rival firms|in volunteer networks|"
            "under high turnover|when stakes are visible|in crisis response|"
            "across time zones|without a central authority|in new alliances|"
            "after a public failure",
            "free-rider share|time to agreement|defection rate|coordination cost|"
            "participation|decision latency|trust score|renegotiation rate",
        ),
        "institutional-design": (
            "sunset clauses|independent audit|term limits|participatory budgeting|"
            "regulatory sandboxes|ombudsman offices|citizen assemblies|"
            "inspector general oversight|procurement transparency|"
            "judicial review|fiscal rules|central bank independence|"
            "lobbying disclosure|open data mandates|appeals processes|"
            "municipal consolidation|agency capture|performance budgeting|"
            "whistleblower protection|rotation of officials|"
            "supermajority requirements|licensing boards|"
            "parliamentary scrutiny|decentralised service delivery",
            "independent|elected|appointed|statutory|advisory|binding|"
            "temporary|permanent|municipal|national|transnational|voluntary",
            "in young democracies|across municipal governments|under divided government|"
            "in post-conflict states|for regulated monopolies|during fiscal crises|"
            "within a single electoral cycle|in federal systems|in small island states|"
            "across member states",
            "corruption incidence|policy reversal rate|trust in institutions|"
            "compliance cost|service delivery time|audit findings|budget variance|"
            "turnout",
        ),
        "market-structure": (
            "platform bundling|switching costs|price discrimination|vertical integration|"
            "entry barriers|network effects|two-sided pricing|exclusive dealing|"
            "interoperability mandates|merger review|tacit collusion|"
            "loyalty programmes|data portability|franchise contracts|"
            "procurement auctions|marketplace fees|capacity pre-emption|"
            "patent thickets|standard essential licensing|search ranking|"
            "supplier concentration|dynamic pricing|subscription lock-in|"
            "resale price maintenance",
            "dominant|fragmented|concentrated|contestable|regulated|digital|"
            "regional|global|incumbent|entrant|niche|commodity",
            "in digital marketplaces|across regional grocery chains|"
            "after large mergers|in concentrated supply chains|for small sellers|"
            "within three years of entry|in ride-hailing markets|"
            "across airline routes|in generic drug markets|for enterprise software",
            "markup|market share|entry rate|consumer surplus|price dispersion|"
            "churn|margin|concentration index",
        ),
        "knowledge-systems": (
            "citation tracking|peer review|preregistration|replication funding|"
            "open access publishing|wiki curation|claim provenance|version control|"
            "editorial gatekeeping|expert elicitation|adversarial review|"
            "metadata standards|link rot|archival mirroring|knowledge graphs|"
            "taxonomy drift|retraction notices|data sharing mandates|"
            "literature triage|summary writing|duplicate detection|"
            "source grading|contradiction flagging|annotation layers",
            "collaborative|centralised|crowd-sourced|curated|automated|versioned|"
            "archival|open|closed|machine-readable|peer-reviewed|informal",
            "in large collaborative wikis|across scientific fields|in fast-moving fields|"
            "for small research teams|over a decade of edits|in agent-maintained bases|"
            "after a retraction wave|in policy briefings|for contested topics|"
            "across language editions",
            "replication rate|edit survival|citation accuracy|time to correction|"
            "coverage|reader trust|duplicate share|broken link share",
        ),
    },
    "foundations": {
        "complex-systems": (
            "feedback delay|tipping thresholds|modular redundancy|cascading failure|"
            "adaptive capacity|path dependence|critical slowing down|"
            "self-organisation|resilience buffers|phase transitions|"
            "heavy-tailed shocks|coupling strength|hysteresis|emergent order|"
            "slack resources|preferential attachment|synchronisation|"
            "edge of chaos dynamics|variance amplification|lock-in|"
            "panarchy cycles|early warning signals|degeneracy|percolation",
            "tightly coupled|loosely coupled|nonlinear|adaptive|fragile|robust|"
            "hierarchical|nested|scale-free|chaotic|metastable|recurrent",
            "in tightly coupled infrastructures|across ecological networks|"
            "near critical thresholds|under repeated shocks|in financial networks|"
            "over long time horizons|in supply chains|at the scale of regions|"
            "in engineered systems|when feedback is delayed",
            "recovery time|failure size|variance|autocorrelation|connectivity|"
            "redundancy|cascade depth|return rate",
        ),
        "behavioral-economics": (
            "default enrolment|loss aversion|present bias|social proof|"
            "commitment devices|mental accounting|choice overload|anchoring|"
            "framing effects|reminder messages|status quo bias|"
            "overconfidence|salience of costs|reciprocity norms|"
            "endowment effects|hyperbolic discounting|peer comparison|"
            "sludge|scarcity mindset|gamified incentives|"
            "opt-out organ donation|round-number pricing|decoy pricing|"
            "planning prompts",
            "automatic|voluntary|small|repeated|one-off|public|private|"
            "financial|social|digital|default|personalised",
            "for retirement savers|among low-income households|in online checkout flows|"
            "for energy bills|in workplace wellness|across loan applicants|"
            "in the first month|for gym memberships|in tax filing|"
            "among first-time voters",
            "enrolment rate|savings rate|take-up|default persistence|"
            "completion rate|compliance|willingness to pay|repayment rate",
        ),
        "measurement-theory": (
            "proxy metrics|goal displacement|sampling frames|indicator gaming|"
            "measurement invariance|survey mode effects|ceiling effects|"
            "composite indices|benchmark drift|self-reported outcomes|"
            "administrative data|inter-rater reliability|response burden|"
            "threshold effects|regression to the mean|selection on outcomes|"
            "survivorship filtering|metric dashboards|ranking tables|"
            "target setting|measurement error|construct validity|"
            "audit sampling|attribution windows",
            "noisy|biased|composite|self-reported|administrative|high-stakes|"
            "low-stakes|longitudinal|cross-sectional|aggregate|granular|standardised",
            "in high-stakes settings|across national statistics|in public rankings|"
            "for outcome-based contracts|in small samples|over repeated rounds|"
            "when targets are public|in health systems|for school inspections|"
            "across survey waves",
            "bias|variance|reliability coefficient|gaming rate|coverage error|"
            "ranking stability|response rate|validity score",
        ),
        "network-science": (
            "hub removal|weak ties|small-world shortcuts|homophily|triadic closure|"
            "bridge brokerage|degree assortativity|community structure|"
            "contagion thresholds|random rewiring|structural holes|"
            "centrality ranking|link prediction|echo chambers|"
            "cascade seeding|influence maximisation|k-core pruning|"
            "multiplex coupling|temporal burstiness|motif frequency|"
            "rich-club ordering|diffusion speed|network sparsity|edge weights",
            "sparse|dense|clustered|random|scale-free|directed|weighted|"
            "temporal|multilayer|bipartite|local|global",
            "in online social networks|across collaboration graphs|in citation networks|"
            "for complex contagions|in transport networks|within organisations|"
            "at million-node scale|in sparse rural ties|across trade networks|"
            "in messaging platforms",
            "path length|clustering coefficient|adoption share|cascade size|"
            "modularity|reach|betweenness|time to saturation",
        ),
    },
}

# third-person singular verbs and verb phrases with a direction or a mechanism
VERBS = (
    "cuts|raises|shortens|lengthens|doubles|halves|outperforms|crowds out|depends on|"
    "predicts|amplifies|erodes|substitutes for|locks in|delays|stabilises|concentrates|"
    "fragments|masks|undercuts|accelerates|offsets|displaces|compounds|dampens|"
    "reverses|anchors|unlocks|caps|inflates|deflates|redistributes|hides|exposes|"
    "outlasts|pre-empts|bottlenecks|subsidises|penalises|rewards|triggers|suppresses|"
    "narrows|widens|steepens|flattens|front-loads|back-loads|decouples from|"
    "tracks|lags|leads|mirrors|overshoots|undershoots|saturates|cannibalises|complements|"
    "entrenches|loosens|tightens|shifts|slows|speeds up|weakens|strengthens"
).split("|")

PREDICATES = (
    "a coordination problem|a measurement artifact|a pricing problem|a capacity constraint|"
    "an information problem|a timing problem|a design choice|a governance failure|"
    "a selection effect|a scale effect|a transitional cost|a one-off gain|"
    "a compounding advantage|a fragile equilibrium|a local optimum|a hidden subsidy|"
    "a distributional choice|an incentive mismatch|a maintenance backlog|"
    "a labour constraint|a trust deficit|a feedback failure|a threshold effect|"
    "a sequencing problem|a financing gap|a reporting artifact|a path-dependent outcome"
).split("|")

CONNECTIVES = ("because", "since", "as long as", "only when", "mainly because",
               "even though", "unless", "largely because", "whenever", "so long as")

QUANTITIES = ("by a fifth", "by a third", "by half", "by roughly a quarter", "twofold",
              "threefold", "by {p} percent", "by {p} percent", "by {p} percent",
              "by {p} percentage points", "{x}-fold", "within {y} years",
              "within {m} months")

TIME_SCOPES = ("within {y} years", "after {yr}", "since {yr}", "before {yr}",
               "over {y} years", "in the first {m} months", "by {yr}")

COMPARISONS = ("rather than", "more than", "faster than", "more reliably than",
               "at lower cost than", "for longer than")

SURNAMES = (
    "Abara Alvik Barros Bellweather Castell Dunmore Ekwueme Faraday Galloway Haverty Imhof "
    "Jurado Kettering Lindqvist Marsh Nakagawa Okafor Pereira Quintana Rasmussen Szabo "
    "Tanaka Ulloa Vasquez Whitcombe Xiang Yilmaz Zoric Achterberg Brannigan Coelho Demir "
    "Esposito Fennimore Gruber Hollis Iwasaki Jaramillo Kowalczyk Lemaire Moretti Nwosu "
    "Oyelaran Pacheco Quist Rourke Sandoval Thorsen Urquhart Valdivia Wexler Yoshida "
    "Zamora Aldana Brisco Cavendish Delacroix Eberhart Fontaine Granger Halvorsen"
).split()

ORG_PARTS = (
    "North Harbour|Eastfield|Redmere|Silver Birch|Kestrel|Lowmoor|Brightwater|Ashcombe|"
    "Greyfriars|Marlow Ridge|Copperline|Westbrook|Tidewater|Oakhollow|Stonebridge|"
    "Fernvale|Highcastle|Larkspur|Millbrook|Windmere|Cobalt Bay|Juniper|Elmstead"
).split("|")
ORG_KINDS = (
    "Institute|Observatory|Research Centre|Policy Lab|Foundation|Statistics Office|"
    "University|Council|Authority|Collaborative|Trust|Agency|Consortium|Survey Unit"
).split("|")
WORK_KINDS = (
    "Field Study|Working Paper|Annual Report|Panel Survey|Randomised Trial|Case Series|"
    "Technical Report|Evaluation|Meta-Analysis|Audit|Programme Review|Cohort Study|"
    "Briefing|Dataset Release|Consultation Response"
).split("|")

STUDY_KINDS = ("study", "trial", "survey", "audit", "panel", "evaluation", "review",
               "field experiment", "cohort study", "case series")
PLACES = ("sites", "cities", "districts", "programmes", "regions", "teams", "markets",
          "networks", "schools", "clinics", "farms", "fleets", "systems", "counties")

GLOSSES = (
    "the mechanism this claim relies on", "a counterweight to this effect",
    "evidence from a neighbouring field", "the same pattern at a larger scale",
    "why the effect fades over time", "where the effect reverses",
    "the cost side of the argument", "a precondition for the effect",
    "a rival explanation", "the historical precedent", "the measurement behind it",
    "what happens when the constraint binds", "a case where this failed",
    "the policy lever it points to", "the upstream cause", "the downstream consequence",
    "an estimate of the size of the effect", "why incumbents resist it",
)

AGENTS = ("orrin", "maelis", "tovah", "quill", "sabe", "ferro")
ENTITY_KINDS = ("organization", "person", "programme", "dataset", "venue")
NOTE_KINDS = ("musing", "position", "belief")
SECTION_NAMES = ("Mechanisms", "Evidence base", "Open questions", "Policy levers",
                 "Measurement", "History", "Counter-arguments", "Interactions",
                 "Costs", "Scaling", "Failure modes", "Adjacent fields")
