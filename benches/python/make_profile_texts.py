#!/usr/bin/env python3
"""Writes data/fixtures/profile_texts.jsonl: 2,000 deterministic expert-profile texts.

Each line is {"text": ...}: what Droply embeds for one expert profile (profession, city,
experience, skills, tags, a short bio and a service description), about 50 tokens each.
The embedding benches and benches/compare_embed.sh read it. Same seed, same file.

    python3 benches/python/make_profile_texts.py [--count 2000] [--out PATH]
"""

import argparse
import json
import pathlib
import random

FIELDS = {
    "Software engineering": (
        ["Backend engineer", "Rust developer", "Mobile developer", "DevOps consultant", "Site reliability engineer"],
        ["Rust", "Go", "Kubernetes", "PostgreSQL", "React Native", "AWS", "Terraform", "GraphQL", "Kafka", "TypeScript"],
    ),
    "Data and AI": (
        ["Data scientist", "Machine learning engineer", "Analytics consultant", "Data engineer"],
        ["Python", "PyTorch", "dbt", "Airflow", "forecasting", "A/B testing", "LLM fine-tuning", "SQL", "Spark", "causal inference"],
    ),
    "Design": (
        ["Product designer", "Brand designer", "UX researcher", "Illustrator", "Interior designer"],
        ["Figma", "design systems", "user interviews", "typography", "packaging", "accessibility audits", "motion design", "space planning"],
    ),
    "Legal": (
        ["Immigration lawyer", "Contract lawyer", "Intellectual property attorney", "Employment lawyer"],
        ["work visas", "residency permits", "SaaS contracts", "trademark filings", "GDPR compliance", "severance negotiation", "startup incorporation"],
    ),
    "Finance": (
        ["Tax advisor", "Financial planner", "Fractional CFO", "Bookkeeper", "Mortgage broker"],
        ["expat taxes", "VAT returns", "retirement planning", "fundraising models", "cash-flow forecasting", "crypto tax reporting", "payroll"],
    ),
    "Health and wellbeing": (
        ["Physiotherapist", "Nutritionist", "Yoga teacher", "Sleep coach", "Personal trainer", "Psychotherapist"],
        ["sports injuries", "post-operative rehab", "pediatric nutrition", "prenatal yoga", "strength training", "insomnia", "burnout recovery", "CBT"],
    ),
    "Education": (
        ["Language tutor", "Math tutor", "Music teacher", "Admissions coach", "Chess coach"],
        ["Mandarin", "Spanish", "Japanese", "calculus", "SAT prep", "piano", "jazz guitar", "university essays", "IELTS", "openings theory"],
    ),
    "Marketing": (
        ["Growth marketer", "SEO consultant", "Copywriter", "Social media strategist", "PR consultant"],
        ["SEO audits", "paid social", "email funnels", "brand voice", "launch campaigns", "TikTok content", "press outreach", "conversion copy"],
    ),
    "Home and craft": (
        ["Electrician", "Carpenter", "Pastry chef", "Florist", "Photographer", "Tailor"],
        ["smart home wiring", "custom shelving", "sourdough baking", "wedding bouquets", "portrait photography", "bespoke suits", "kitchen renovations"],
    ),
    "Business": (
        ["Startup advisor", "Operations consultant", "Executive coach", "Sales trainer", "Supply chain consultant"],
        ["go-to-market strategy", "hiring plans", "OKRs", "B2B sales", "negotiation", "procurement", "leadership coaching", "pricing strategy"],
    ),
}

CITIES = [
    "Austin", "Berlin", "Lisbon", "Tokyo", "São Paulo", "Nairobi", "Toronto", "Melbourne", "Paris",
    "Mexico City", "Seoul", "Amsterdam", "Bangalore", "Cape Town", "Warsaw", "Chicago", "Madrid", "remote",
]

BIOS = [
    "I help clients ship faster and avoid costly mistakes.",
    "Former {company} lead, now independent and working with small teams.",
    "I explain complex topics in plain language and give you a clear plan.",
    "Patient, structured and direct: every session ends with concrete next steps.",
    "I have worked with over {clients} clients, from solo founders to large companies.",
    "Bilingual in English and {language}; happy to work across time zones.",
    "My approach is practical, evidence-based and tailored to your goals.",
]

SERVICES = [
    "Book a {minutes}-minute video call to review your {thing}.",
    "Sessions from ${price}/hour, with a free 15-minute intro call.",
    "Packages of {sessions} sessions with written feedback after each one.",
    "In-person appointments in {city} or online, evenings and weekends available.",
    "Fixed-price {thing} review delivered within {days} days.",
]

COMPANIES = ["Google", "Deloitte", "Spotify", "a Big Four firm", "a top-10 hospital", "Airbnb", "a Michelin-star kitchen"]
LANGUAGES = ["Spanish", "Portuguese", "German", "French", "Japanese", "Hindi", "Polish", "Korean"]
THINGS = ["project", "plan", "portfolio", "contract", "codebase", "strategy", "application", "budget"]


def profile_text(rng: random.Random) -> str:
    field = rng.choice(sorted(FIELDS))
    professions, skills = FIELDS[field]
    profession = rng.choice(professions)
    city = rng.choice(CITIES)
    chosen = rng.sample(skills, 3)
    where = "working remotely" if city == "remote" else f"based in {city}"
    years = rng.randint(2, 30)
    bio = rng.choice(BIOS).format(
        company=rng.choice(COMPANIES), clients=rng.choice([40, 80, 150, 300, 500]), language=rng.choice(LANGUAGES)
    )
    service = rng.choice(SERVICES).format(
        minutes=rng.choice([30, 45, 60, 90]),
        thing=rng.choice(THINGS),
        price=rng.randint(4, 60) * 10,
        sessions=rng.choice([3, 5, 8, 10]),
        city=city if city != "remote" else "your city",
        days=rng.choice([2, 3, 5, 7]),
    )
    tags = ", ".join([chosen[0].lower(), field.lower()])
    # Two profiles in five carry no bio: a service line is enough for them.
    about = f"{bio} {service}" if rng.random() < 0.6 else service
    return (
        f"{profession} {where} with {years} years of experience in {chosen[0]}, {chosen[1]} and {chosen[2]}. "
        f"{about} Tags: {tags}."
    )


def main() -> None:
    root = pathlib.Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--out", type=pathlib.Path, default=root / "data/fixtures/profile_texts.jsonl")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for _ in range(args.count):
            out.write(json.dumps({"text": profile_text(rng)}, ensure_ascii=False) + "\n")
    print(f"wrote {args.count} profile texts to {args.out}")


if __name__ == "__main__":
    main()
