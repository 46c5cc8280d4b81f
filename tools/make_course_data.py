"""Write the course's own data sets into shared/ml4llm/resources (run from the repository root).

    python tools/make_course_data.py            # rewrite the files
    python tools/make_course_data.py --check    # exit 1 if a file differs from what this writes

Everything below was written by the course authors: the scenes of the four-choice items, the
sentiment templates and words, the can/can't frames, the noun and verb lists, the him/her
frames, the multilingual lines and the text of two HTML pages. The script only combines them,
with one fixed seed, so that the files are the same on every run. tests/test_course_data.py
checks the files against this script and reads samples.
"""

from __future__ import annotations

import html
import itertools
import json
import random
import sys
from pathlib import Path

SEED = 2024
RESOURCES = Path(__file__).resolve().parent.parent / "shared" / "ml4llm" / "resources"

# --------------------------------------------------------------------------- four-choice items
# Each scene: (domain, activity, subject, pronoun, five steps). A step is a verb phrase in the
# present tense that follows "he"/"she" (no other pronouns), so that any step reads as
# grammatical English after any context. Item k of a scene: context = subject + step k, then
# a connective and the pronoun; right ending = step k + 1; the three wrong endings are steps
# of scenes from other domains: grammatical, but plainly not what happens next.
# fmt: off
SCENES = [
    ("kitchen", "Making pancakes", "A woman", "she", [
        "cracks two eggs into a large mixing bowl.",
        "pours milk and flour into the bowl with the eggs.",
        "whisks the batter until it is smooth and free of lumps.",
        "ladles some of the batter into a hot frying pan.",
        "flips the pancake over when the bottom turns golden.",
    ]),
    ("kitchen", "Making tea", "A man", "he", [
        "fills the kettle with cold water at the sink.",
        "switches on the kettle and waits for the water to boil.",
        "drops a tea bag into a white mug.",
        "pours the boiling water over the tea bag in the mug.",
        "stirs a splash of milk and a spoonful of sugar into the tea.",
    ]),
    ("kitchen", "Baking bread", "A baker", "he", [
        "mixes flour, yeast, salt and warm water in a bowl.",
        "kneads the dough on a floured table for ten minutes.",
        "leaves the dough to rise under a clean cloth.",
        "shapes the risen dough into a round loaf.",
        "slides the loaf into the hot oven to bake.",
    ]),
    ("kitchen", "Making a salad", "A girl", "she", [
        "rinses a head of lettuce under the tap.",
        "tears the lettuce leaves into a wooden bowl.",
        "slices a cucumber and two tomatoes on a cutting board.",
        "adds the cucumber and tomato slices to the lettuce.",
        "drizzles olive oil and lemon juice over the salad.",
    ]),
    ("kitchen", "Making a sandwich", "A boy", "he", [
        "takes two slices of bread out of the bag.",
        "spreads butter thinly on each slice of bread.",
        "lays a slice of cheese and some ham on one slice.",
        "puts the second slice of bread on top of the cheese and ham.",
        "cuts the sandwich in half with a knife.",
    ]),
    ("kitchen", "Cooking pasta", "A chef", "she", [
        "sets a large pot of salted water on the stove.",
        "waits until the water in the pot comes to a rolling boil.",
        "tips the dry spaghetti into the boiling water.",
        "drains the cooked spaghetti in a colander at the sink.",
        "tosses the drained spaghetti with warm tomato sauce.",
    ]),
    ("kitchen", "Carving a pumpkin", "A girl", "she", [
        "cuts a circle around the stem of a large pumpkin.",
        "lifts the lid off the top of the pumpkin.",
        "scoops the seeds out of the pumpkin with a large spoon.",
        "carves two eyes and a wide grin into the pumpkin.",
        "puts a candle inside the carved pumpkin and lights it.",
    ]),
    ("household", "Washing a car", "A man", "he", [
        "fills a bucket with warm soapy water in the driveway.",
        "scrubs the roof and the doors of the car with a sponge.",
        "rinses the soap off the car with a garden hose.",
        "dries the car windows with a soft cloth.",
        "polishes the paint of the car until it gleams in the sun.",
    ]),
    ("household", "Washing dishes", "A woman", "she", [
        "fills the sink with hot water and dish soap.",
        "scrubs the dirty plates in the sink with a brush.",
        "rinses each plate under the running tap.",
        "stacks the clean plates in the drying rack.",
        "dries the wet glasses with a tea towel.",
    ]),
    ("household", "Cleaning windows", "A young man", "he", [
        "sprays glass cleaner onto a dirty window.",
        "wipes the glass with a folded paper towel.",
        "pulls a rubber squeegee down the wet glass.",
        "wipes the dirty water off the window frame.",
        "steps back to check the clean glass for streaks.",
    ]),
    ("household", "Vacuuming a room", "A girl", "she", [
        "plugs the vacuum cleaner into the wall socket.",
        "moves the chairs away from the middle of the room.",
        "pushes the vacuum cleaner slowly across the carpet.",
        "runs the narrow nozzle along the edges of the carpet.",
        "puts the chairs back in their places around the table.",
    ]),
    ("household", "Doing laundry", "A woman", "she", [
        "sorts the dirty clothes into whites and colours.",
        "loads the white clothes into the washing machine.",
        "pours a cup of detergent into the drawer of the machine.",
        "hangs the wet clothes on the line in the garden.",
        "folds the dry clothes into neat piles on the bed.",
    ]),
    ("household", "Making a bed", "A man", "he", [
        "pulls the old sheets off the mattress.",
        "spreads a clean sheet over the mattress.",
        "tucks the corners of the sheet under the mattress.",
        "shakes the pillows into fresh pillowcases.",
        "smooths the blanket over the freshly made bed.",
    ]),
    ("household", "Ironing a shirt", "A woman", "she", [
        "sets up the ironing board next to the window.",
        "fills the iron with water and switches it on.",
        "lays the wrinkled shirt flat on the ironing board.",
        "presses the hot iron along the sleeves of the shirt.",
        "hangs the smooth shirt on a hanger in the wardrobe.",
    ]),
    ("garden", "Planting a tree", "A man", "he", [
        "digs a deep hole in the garden with a spade.",
        "lowers the young tree into the hole.",
        "fills the hole around the roots of the tree with soil.",
        "presses the soil down firmly around the trunk.",
        "pours a bucket of water over the soil around the new tree.",
    ]),
    ("garden", "Mowing the lawn", "A teenager", "he", [
        "pulls the cord to start the lawn mower.",
        "pushes the mower in straight lines across the grass.",
        "empties the bag of cut grass onto the compost heap.",
        "trims the edges of the lawn with a pair of shears.",
        "sweeps the grass clippings off the garden path.",
    ]),
    ("garden", "Repotting a plant", "An old woman", "she", [
        "tips a small plant out of its old plastic pot.",
        "gently loosens the tangled roots of the plant.",
        "puts a layer of fresh soil into a bigger pot.",
        "sets the plant in the new pot and adds more soil around it.",
        "waters the plant until water runs out of the bottom of the pot.",
    ]),
    ("garden", "Raking leaves", "A boy", "he", [
        "rakes the fallen leaves on the lawn into a big pile.",
        "jumps into the middle of the pile of leaves.",
        "rakes the scattered leaves back into a pile.",
        "stuffs the leaves into a large paper bag.",
        "drags the full bag of leaves to the end of the driveway.",
    ]),
    ("garden", "Building a snowman", "A girl", "she", [
        "rolls a big ball of snow across the yard for the base.",
        "rolls a smaller ball of snow and lifts it onto the base.",
        "puts a small round head of snow on top of the body.",
        "pushes a carrot into the head of the snowman for a nose.",
        "wraps an old scarf around the neck of the snowman.",
    ]),
    ("sports", "Playing basketball", "A young man", "he", [
        "dribbles the basketball down the court.",
        "stops at the free throw line and bends at the knees.",
        "jumps and shoots the ball toward the hoop.",
        "watches the ball drop through the net.",
        "runs back down the court to play defence.",
    ]),
    ("sports", "Bowling", "A woman", "she", [
        "picks up a heavy green bowling ball from the rack.",
        "walks slowly toward the foul line with the ball.",
        "rolls the ball down the middle of the lane.",
        "watches the ball knock down all ten pins.",
        "raises both arms and cheers with the rest of the team.",
    ]),
    ("sports", "Swimming laps", "A man", "he", [
        "pulls on a pair of swimming goggles at the edge of the pool.",
        "dives off the starting block into the water.",
        "swims a fast front crawl to the far end of the pool.",
        "touches the wall of the pool and turns to swim back.",
        "climbs out of the pool and wraps up in a towel.",
    ]),
    ("sports", "Playing tennis", "A girl", "she", [
        "tosses the tennis ball high into the air.",
        "serves the ball hard over the net.",
        "runs to the side of the court to return a low shot.",
        "hits a backhand across the court past the other player.",
        "shakes hands with the other player at the net.",
    ]),
    ("sports", "Taking a penalty kick", "A football player", "he", [
        "places the ball on the penalty spot.",
        "takes four steps back from the ball.",
        "runs up and kicks the ball toward the corner of the goal.",
        "watches the ball fly past the diving goalkeeper.",
        "celebrates the goal with the rest of the team.",
    ]),
    ("sports", "Lifting weights", "A woman", "she", [
        "loads two heavy plates onto the barbell.",
        "rubs chalk onto both palms before gripping the bar.",
        "lifts the barbell from the floor up to the hips.",
        "holds the heavy barbell still for a moment.",
        "lowers the barbell slowly back to the floor.",
    ]),
    ("sports", "Riding a bike", "A boy", "he", [
        "straps on a helmet next to the bicycle.",
        "climbs onto the saddle and grips the handlebars.",
        "pedals the bicycle down the quiet street.",
        "rings the bell on the handlebars as the bike passes a jogger.",
        "squeezes the brakes and stops the bike at the corner.",
    ]),
    ("sports", "Skiing", "A young woman", "she", [
        "clicks the ski boots into the skis at the top of the slope.",
        "pushes off down the hill with the ski poles.",
        "turns left and right through the soft snow.",
        "slows down at the bottom of the ski slope.",
        "rides the chairlift back up the mountain.",
    ]),
    ("grooming", "Brushing teeth", "A girl", "she", [
        "squeezes a line of toothpaste onto the toothbrush.",
        "brushes the front teeth in small circles.",
        "brushes the back teeth on both sides of the mouth.",
        "spits the foam of the toothpaste into the sink.",
        "rinses the toothbrush under the tap.",
    ]),
    ("grooming", "Shaving", "A man", "he", [
        "spreads shaving foam over the cheeks and the chin.",
        "draws the razor slowly down one cheek.",
        "rinses the foam off the razor under hot water.",
        "shaves carefully around the chin with short strokes.",
        "washes the last of the shaving foam off the face.",
    ]),
    ("grooming", "Braiding hair", "A woman", "she", [
        "brushes the long hair until it is free of knots.",
        "divides the hair into three equal strands.",
        "crosses the left strand of hair over the middle strand.",
        "keeps crossing the strands until the braid is finished.",
        "ties the end of the braid with a hair band.",
    ]),
    ("grooming", "Tying shoelaces", "A little boy", "he", [
        "pulls the laces of the shoe tight.",
        "crosses one shoelace over the other.",
        "makes a loop with one of the shoelaces.",
        "wraps the other lace around the loop.",
        "pulls both loops tight to finish the bow.",
    ]),
    ("workshop", "Painting a wall", "A man", "he", [
        "covers the floor of the room with an old sheet.",
        "pours pale blue paint into a tray.",
        "rolls the paint roller through the paint in the tray.",
        "rolls the blue paint up and down the wall.",
        "paints the corners of the wall with a small brush.",
    ]),
    ("workshop", "Hanging a picture", "A woman", "she", [
        "holds the picture frame against the wall to find the right spot.",
        "marks the spot on the wall with a pencil.",
        "taps a nail into the wall at the mark with a hammer.",
        "hangs the picture frame on the nail.",
        "straightens the picture frame until it is level.",
    ]),
    ("workshop", "Changing a tire", "A man", "he", [
        "loosens the nuts on the flat tire with a wrench.",
        "raises the car off the ground with a jack.",
        "pulls the flat tire off the wheel hub.",
        "lifts the spare tire onto the wheel hub.",
        "tightens the nuts and lowers the car back to the ground.",
    ]),
    ("workshop", "Assembling a shelf", "A young woman", "she", [
        "unpacks the wooden boards and the screws from the box.",
        "reads the first page of the assembly instructions.",
        "screws the side panels of the shelf to the bottom board.",
        "fixes the back panel of the shelf in place with small nails.",
        "stands the finished shelf against the wall.",
    ]),
    ("workshop", "Sawing a plank", "A carpenter", "he", [
        "measures the wooden plank with a tape measure.",
        "draws a straight line across the plank with a pencil.",
        "clamps the plank to the workbench.",
        "saws carefully along the pencil line.",
        "sands the rough edge of the cut plank.",
    ]),
    ("music and art", "Playing the guitar", "A young man", "he", [
        "sits on a stool and rests the guitar on one knee.",
        "turns the tuning pegs until the strings sound right.",
        "strums a few chords on the guitar to warm up.",
        "plays a slow song on the guitar and sings along.",
        "bows to the audience when the song ends.",
    ]),
    ("music and art", "Painting a picture", "A girl", "she", [
        "clips a sheet of thick paper to the easel.",
        "sketches the outline of a house in pencil.",
        "dips a paintbrush into the blue paint.",
        "paints the sky above the house in blue.",
        "signs the finished painting in the bottom corner.",
    ]),
    ("music and art", "Knitting a scarf", "An old woman", "she", [
        "winds the red wool into a ball.",
        "casts the first stitches onto a knitting needle.",
        "knits row after row of small stitches.",
        "holds up the long scarf to check its length.",
        "ties off the last stitch and cuts the wool.",
    ]),
    ("music and art", "Wrapping a gift", "A boy", "he", [
        "places a small box in the middle of the wrapping paper.",
        "folds the wrapping paper around the box.",
        "tapes the edges of the wrapping paper in place.",
        "ties a ribbon around the wrapped box.",
        "sticks a name tag on top of the gift.",
    ]),
    ("music and art", "Playing the drums", "A teenager", "she", [
        "sits down behind the drum kit.",
        "picks up the two drumsticks.",
        "counts to four and starts a steady beat on the drums.",
        "hits the cymbal at the end of each line of the song.",
        "finishes the song with a loud drum roll.",
    ]),
    ("animals", "Washing a dog", "A woman", "she", [
        "lifts the muddy dog into the bathtub.",
        "wets the fur of the dog with warm water.",
        "rubs dog shampoo into the wet fur.",
        "rinses the suds out of the fur of the dog.",
        "dries the dog with a big towel.",
    ]),
    ("animals", "Walking a dog", "A man", "he", [
        "clips the leash onto the collar of the dog.",
        "walks the dog along the path in the park.",
        "throws a stick across the grass for the dog.",
        "waits while the dog brings the stick back.",
        "gives the dog a treat at the park gate.",
    ]),
    ("animals", "Grooming a horse", "A girl", "she", [
        "ties the horse to a post in the stable yard.",
        "brushes the dust out of the coat of the horse.",
        "combs the tangles out of the mane of the horse.",
        "cleans the mud from each hoof with a hoof pick.",
        "leads the horse back into the stable.",
    ]),
    ("animals", "Feeding chickens", "A farmer", "he", [
        "scoops grain from a sack into a bucket.",
        "opens the gate of the chicken coop.",
        "scatters the grain across the ground for the chickens.",
        "watches the chickens peck at the grain.",
        "collects the fresh eggs from the nest boxes.",
    ]),
    ("travel", "Packing a suitcase", "A woman", "she", [
        "lays the open suitcase on the bed.",
        "rolls up the shirts and puts them in the suitcase.",
        "tucks the shoes into the corners of the suitcase.",
        "puts the bag of toiletries on top of the clothes.",
        "sits on the lid to close the full suitcase.",
    ]),
    ("travel", "Rowing a boat", "A man", "he", [
        "pushes the small boat away from the dock.",
        "takes an oar in each hand.",
        "rows the boat across the calm lake.",
        "lets the boat drift near the far shore of the lake.",
        "rows back and ties the boat to the dock.",
    ]),
    ("travel", "Pitching a tent", "A boy", "he", [
        "spreads the tent flat on the ground.",
        "slides the poles through the sleeves of the tent.",
        "raises the tent and pushes the stakes into the ground.",
        "stretches the rain cover over the top of the tent.",
        "unrolls a sleeping bag inside the tent.",
    ]),
    ("travel", "Boarding a plane", "A young woman", "she", [
        "hands the boarding pass to the agent at the gate.",
        "walks down the jet bridge onto the plane.",
        "lifts the carry-on bag into the overhead bin.",
        "sits down in the window seat and fastens the seat belt.",
        "looks out of the window as the plane takes off.",
    ]),
    ("fireside", "Lighting a fire", "An old man", "he", [
        "stacks dry logs in the fireplace.",
        "tucks crumpled newspaper under the logs.",
        "strikes a match and lights the newspaper.",
        "blows gently on the small flames.",
        "sits in an armchair to warm up by the fire.",
    ]),
]
# fmt: on

CONNECTIVES = ["Then {p}", "{P}", "Next, {p}", "After that, {p}"]


def hellaswag_items() -> list[dict]:
    """200 items: item i is step i // 50 of scene i % 50, so any first n items span many scenes."""
    rng = random.Random(SEED)
    labels = [str(k % 4) for k in range(4 * len(SCENES))]
    rng.shuffle(labels)
    items = []
    for k in range(4):
        for s, (domain, activity, subject, pronoun, steps) in enumerate(SCENES):
            others = [i for i, scene in enumerate(SCENES) if scene[0] != domain]
            wrong = [rng.choice(SCENES[i][4]) for i in rng.sample(others, 3)]
            label = int(labels[k * len(SCENES) + s])
            endings = wrong[:label] + [steps[k + 1]] + wrong[label:]
            ctx_a = f"{subject} {steps[k]}"
            connective = CONNECTIVES[(s + k) % len(CONNECTIVES)]
            ctx_b = connective.format(p=pronoun, P=pronoun.capitalize())
            items.append(
                {
                    "activity_label": activity,
                    "ctx_a": ctx_a,
                    "ctx_b": ctx_b,
                    "ctx": f"{ctx_a} {ctx_b}",
                    "endings": endings,
                    "label": str(label),
                }
            )
    return items


# --------------------------------------------------------------------------- sentiment sentences
ASPECTS = [
    "acting",
    "plot",
    "script",
    "soundtrack",
    "dialogue",
    "ending",
    "story",
    "pacing",
    "direction",
    "cast",
    "camera work",
    "music",
]
POSITIVE = [
    "excellent",
    "wonderful",
    "brilliant",
    "superb",
    "outstanding",
    "impressive",
    "delightful",
    "fantastic",
    "great",
    "moving",
]
NEGATIVE = [
    "terrible",
    "awful",
    "dreadful",
    "poor",
    "weak",
    "dull",
    "boring",
    "tedious",
    "disappointing",
    "bad",
]
# (template, negated): a negated template flips the sentiment of its adjective.
SENTIMENT_TEMPLATES = [
    ("The {aspect} was {adj}.", False),
    ("I thought the {aspect} was truly {adj}.", False),
    ("The {aspect} of this film is {adj}.", False),
    ("Everyone I know agreed that the {aspect} was {adj}.", False),
    ("The {aspect} was not {adj} at all.", True),
    ("The {aspect} of this film is far from {adj}.", True),
    ("I would not call the {aspect} {adj}.", True),
    ("Nobody could honestly say that the {aspect} was {adj}.", True),
]
# Sentences per (label, negated) cell: 480 in all, balanced labels, one in five negated. The
# negated share stays a minority, as in real reviews: with half of them negated, every adjective
# would be as often positive as negative, and a probe of a small trained encoder (MiniLM,
# offline) falls to chance.
PER_CELL = {(0, False): 192, (0, True): 48, (1, False): 192, (1, True): 48}


def sentiment_rows() -> list[tuple[str, int, bool]]:
    """480 (sentence, label, negated) rows in the PER_CELL proportions, shuffled."""
    rng = random.Random(SEED)
    cells: dict[tuple[int, bool], list[tuple[str, int, bool]]] = {}
    for (template, negated), aspect, adj in itertools.product(
        SENTIMENT_TEMPLATES, ASPECTS, POSITIVE + NEGATIVE
    ):
        positive_word = adj in POSITIVE
        label = int(positive_word != negated)
        sentence = template.format(aspect=aspect, adj=adj)
        cells.setdefault((label, negated), []).append((sentence, label, negated))
    rows = [row for key in sorted(cells) for row in rng.sample(cells[key], PER_CELL[key])]
    rng.shuffle(rows)
    return rows


# --------------------------------------------------------------------------- can / can't contexts
# Left contexts (at least 10 words before the subject) that make the choice clear: the first set
# says that something stands in the way ("can't"), the second that the way is open ("can").
CANT_FRAMES = [
    "I am really sorry to let you down again, but this week {s} can't {v}.",
    "Unfortunately the doctor said that for the next two months {s} can't {v}.",
    "The storm has closed every road out of the village, so {s} can't {v}.",
    "We lost the car keys somewhere at the station, and without them {s} can't {v}.",
    "After the bank froze the account this morning, I am afraid {s} can't {v}.",
    "It breaks my heart to say it, but with the new job {s} can't {v}.",
    "The trains are on strike all weekend, which means that {s} can't {v}.",
    "Sadly the flu has kept the whole family in bed, so {s} can't {v}.",
    "I wish it were otherwise, but with the money so tight {s} can't {v}.",
    "The landlord refused to give us any more time, so now {s} can't {v}.",
    "However hard we have tried to find a way around it, {s} can't {v}.",
    "With a broken leg in plaster until the end of March, {s} can't {v}.",
    "The visa was turned down yesterday, and that is why {s} can't {v}.",
    "Because the flight was cancelled at the very last minute, {s} can't {v}.",
    "I have checked the calendar three times, and I am sorry, {s} can't {v}.",
    "The power has been out since the storm began, so tonight {s} can't {v}.",
    "The boss cancelled all leave for the rest of the month, so {s} can't {v}.",
    "We really wanted to say yes, but with the baby so ill {s} can't {v}.",
    "The garage says the car needs another two weeks, so sadly {s} can't {v}.",
    "As the tickets sold out within minutes of going on sale, {s} can't {v}.",
]
CAN_FRAMES = [
    "Good news: the doctor says the wound has healed, so from today {s} can {v}.",
    "The storm is over and all the roads are open again, so {s} can {v}.",
    "We finally found the car keys under the sofa, which means {s} can {v}.",
    "The bank sorted out the problem with the account, so now {s} can {v}.",
    "I have just finished the last of the work for the week, so {s} can {v}.",
    "The trains are running on time again after the strike, so {s} can {v}.",
    "Everyone in the family has recovered from the flu, so {s} can {v}.",
    "My pay rise came through this morning, and at last {s} can {v}.",
    "The landlord kindly gave us another month, so this weekend {s} can {v}.",
    "After weeks of planning, everything is finally ready, and {s} can {v}.",
    "The cast came off yesterday and the leg is strong again, so {s} can {v}.",
    "The visa arrived in the post this morning, which means {s} can {v}.",
    "The airline found us seats on an earlier flight, so now {s} can {v}.",
    "I checked the calendar and the whole weekend is free, so {s} can {v}.",
    "The power came back on an hour ago, so this evening {s} can {v}.",
    "The boss approved the days off without a single question, so {s} can {v}.",
    "The baby is sleeping through the night again, so this time {s} can {v}.",
    "The garage has repaired the car ahead of time, so happily {s} can {v}.",
    "A friend had two spare tickets for the concert, which means {s} can {v}.",
    "The rain stopped and the sun is out over the hills, so {s} can {v}.",
]
SUBJECTS = ["I", "we", "my brother", "our neighbours"]
VERB_PHRASES = [
    "come to the party on Saturday",
    "drive you to the airport",
    "help you move house",
    "visit the grandparents next week",
]


def can_cant_lines() -> list[str]:
    """320 "can't" and 320 "can" contexts, alternating (can't first), in a seeded order."""
    rng = random.Random(SEED)
    classes = []
    for frames in (CANT_FRAMES, CAN_FRAMES):
        lines = [
            f.format(s=s, v=v) for f, s, v in itertools.product(frames, SUBJECTS, VERB_PHRASES)
        ]
        lines = [line[0].upper() + line[1:] for line in lines]
        rng.shuffle(lines)
        classes.append(lines)
    return [line for pair in zip(*classes) for line in pair]


# --------------------------------------------------------------------------- nouns and verbs
# Common words whose part of speech is as unambiguous as we could make it: no noun that is also
# a common verb ("walk", "book", "fish") and no verb that is also a common noun or adjective.
NOUNS = """
cat sheep goat pig rabbit mouse elephant tiger lion zebra giraffe donkey camel kangaroo dolphin
whale shark frog turtle eagle owl pigeon spider insect butterfly penguin deer lizard crocodile bee
sparrow salmon octopus beetle puppy kitten apple banana carrot potato tomato onion lemon cheese
rice soup pizza bread cookie candy chocolate coffee tea wine beer meat pork bean cabbage lettuce
cucumber garlic grape cherry peach pear melon strawberry pie noodle honey yogurt cereal flour
vegetable fruit dessert breakfast lunch dinner meal salad burger steak sausage bacon kitchen
bedroom bathroom sofa pillow lamp window door roof ceiling staircase cupboard drawer shelf fridge
oven stove basket kettle umbrella wallet suitcase notebook envelope newspaper magazine dictionary
calendar keyboard computer laptop television camera battery candle scissors toothbrush toothpaste
city village town country island mountain river lake ocean sea beach forest valley hill street road
airport hospital library museum church school university college restaurant hotel office factory
castle palace prison garage bakery pharmacy stadium theatre cinema zoo planet moon sky teacher
lawyer farmer student driver baker dentist scientist artist poet singer actor king queen prince
princess president neighbour uncle aunt cousin child girl boy woman person citizen customer tourist
visitor stranger enemy hero chef waiter journalist professor priest athlete idea history music
science mathematics language religion freedom happiness knowledge problem moment hour week month
year century morning evening night afternoon weekend holiday birthday winter summer autumn
temperature energy electricity money economy government army company industry culture society
family population community nation theory opinion memory poem song movie sculpture instrument
guitar piano violin trumpet sport football basketball tennis golf chess hobby paragraph chapter
alphabet vowel ear tooth tongue lip heart brain lung blood bone hair forehead chin cheek tree mud
gold copper wool leather diamond metal gas coal lightning rainbow volcano earthquake galaxy
universe atom molecule oxygen carbon car motorcycle airplane helicopter tractor submarine shirt
jacket sock hat glove sweater jeans necklace bracelet
"""
VERBS = """
think bring arrive agree allow appear believe become begin borrow breathe buy choose collect
complain continue decide deliver describe destroy discover disappear eat enjoy explain forget
forgive grow happen hear ignore imagine improve include invite join keep know learn lend listen
lose marry obey persuade prefer pretend prevent protect prove receive recognise remember remove say
see seem sell send sing sit speak spend steal succeed suggest take teach tell translate understand
want wear weep write accept achieve add admire admit adopt advise afford announce annoy apologise
appreciate approve argue arrange avoid beg behave belong bleed bother bury calculate celebrate chew
compare compete confess confirm confuse connect consider consist contain convince create criticise
dare deny depend deserve develop disagree disappoint discuss divide drown earn educate elect
eliminate embarrass employ encourage entertain establish examine exist expand expect explode
explore fail fetch flee follow forbid frighten gather give greet grab hang heal hesitate hire
identify illustrate impress inform insist inspire intend interrupt introduce invent investigate
irritate kneel knit manage meet melt memorise mend multiply negotiate obtain occur offend organise
overcome owe participate perform pour pray predict prepare pronounce provide publish punish qualify
quit react read realise recommend recover reduce relax rely remain remind replace require resign
resist respond retire reveal rob rub seek select settle shrink solve spoil stir suffer suppose
survive swear tease tempt thank threaten tolerate tremble undergo undress unite unlock vanish
wander warn weigh abandon absorb accompany accuse acquire adapt adjust advertise analyse anticipate
appoint arise assemble assist assume attach attend attract beware bless boast cancel cease clarify
commit communicate comprehend conclude conquer consult contribute cooperate deceive declare defend
define delete demonstrate depart derive detect determine devote dictate dismiss dissolve distribute
disturb donate dwell emerge enable endure enforce engage enhance enlarge ensure enter erase
evaluate exclude execute extend flourish foresee
"""


def word_list(block: str) -> list[str]:
    """The words of a block, in order, each once."""
    return list(dict.fromkeys(block.split()))


# --------------------------------------------------------------------------- him / her frames
# One object-pronoun slot per frame and no other gendered word; the slot is never followed by a
# noun, so "her" cannot be read as a possessive.
HIM_HER_FRAMES = [
    "The teacher thanked {pronoun} for the careful work.",
    "We invited {pronoun} to the meeting on Friday.",
    "The dog followed {pronoun} all the way home.",
    "Nobody told {pronoun} about the change of plan.",
    "The manager asked {pronoun} to stay a little longer.",
    "I saw {pronoun} at the station this morning.",
    "The children waved at {pronoun} from the bus.",
    "Please call {pronoun} when the parcel arrives.",
    "The nurse gave {pronoun} a glass of water.",
    "Everyone in the office likes {pronoun} very much.",
    "The police stopped {pronoun} at the corner.",
    "My neighbours helped {pronoun} with the garden.",
    "The coach praised {pronoun} after the game.",
    "The guide showed {pronoun} the way to the castle.",
    "We met {pronoun} at a concert last year.",
    "The judge believed {pronoun} in the end.",
    "A stranger pushed {pronoun} out of the way.",
    "The cat scratched {pronoun} on the arm.",
    "Our friends surprised {pronoun} with a cake.",
    "The doctor examined {pronoun} for an hour.",
    "I have not heard from {pronoun} since the summer.",
    "The committee chose {pronoun} as the winner.",
    "The students admired {pronoun} greatly.",
    "The waiter brought {pronoun} the bill.",
    "The storm kept {pronoun} indoors all day.",
    "The letter reached {pronoun} a week too late.",
    "The company hired {pronoun} in the spring.",
    "The noise woke {pronoun} in the middle of the night.",
    "We sent {pronoun} a postcard from the coast.",
    "The audience cheered for {pronoun} at the end.",
    "The old photograph reminded {pronoun} of the village.",
    "Somebody left {pronoun} a note on the table.",
    "The bus driver recognised {pronoun} at once.",
    "The crowd ignored {pronoun} completely.",
    "The bees stung {pronoun} twice.",
    "The pilot warned {pronoun} about the weather.",
    "The joke amused {pronoun} enormously.",
    "The library fined {pronoun} for the late books.",
    "The team needs {pronoun} for the final.",
    "The heat made {pronoun} tired and thirsty.",
    "The farmer paid {pronoun} for the work in the fields.",
    "The reporter interviewed {pronoun} on live television.",
    "Our grandparents visited {pronoun} in the hospital.",
    "The news shocked {pronoun} deeply.",
    "The border guards searched {pronoun} carefully.",
    "Two of the players passed the ball to {pronoun}.",
    "The whole class voted for {pronoun} in the election.",
    "The school gave {pronoun} a prize for the essay.",
    "The rain soaked {pronoun} on the way to work.",
    "The lawyer advised {pronoun} to say nothing.",
    "The music calmed {pronoun} after a long day.",
    "The baby smiled at {pronoun} from the pram.",
    "We trust {pronoun} with the keys to the house.",
    "The map helped {pronoun} to find the hidden lake.",
]
HIM_HER_TEST = "After the concert, John called her and Mary thanked him for the flowers."


def him_her_content() -> dict:
    clean = HIM_HER_TEST
    return {
        "frames": HIM_HER_FRAMES,
        "tests": [
            clean,
            clean.replace("called her", "called [MASK]"),
            clean.replace("thanked him", "thanked [MASK]"),
        ],
    }


# --------------------------------------------------------------------------- multilingual lines
# One line per language, written by the course: accented Latin letters and typographic
# punctuation, then Greek, Cyrillic, Arabic, Devanagari, Chinese, Japanese and emoji, so that a
# text holding them has more UTF-8 bytes than characters, and GPT-2 tokens that hold only part
# of a character.
MULTILINGUAL = [
    "A few lines in other languages, written for the course — “read them slowly”…",
    "French: « Le garçon lit un roman près de la fenêtre ; il est déjà tard. »",
    "German: Die Bücher über Märchen stehen im großen Regal.",
    "Spanish: ¿Dónde está la biblioteca? Mañana leeré más.",
    "Greek: Το βιβλίο είναι στο τραπέζι.",
    "Russian: Книга лежит на столе.",
    "Arabic: أحب قراءة الكتب.",
    "Hindi: मुझे किताबें पढ़ना पसंद है।",
    "Chinese: 我喜欢在图书馆看书。",
    "Japanese: 本を読むのが好きです。",
    "Emoji: 📚 ☕ 🙂 🌍",
]


# --------------------------------------------------------------------------- HTML pages
# Project 5 compares tokens per character with tokens per byte. The HTML that installed packages
# ship is pure ASCII, where a byte is a character; these two pages hold accented Latin, other
# scripts and emoji (each written raw, as UTF-8, never as an &#...; entity), so that bytes and
# characters differ. Each entry is (language, text) or (language, script, greeting, meaning,
# emoji), all written by the course.
TRAVEL_NOTES = [
    ("French", "Arrivée à Genève : le café était déjà fermé, mais la boulangère nous a offert "
     "deux croissants. « À demain ! » a-t-elle lancé."),
    ("German", "In München regnete es den ganzen Tag. Wir aßen Käsespätzle, tranken heiße "
     "Schokolade und liefen über die Brücke zur Straßenbahn."),
    ("Spanish", "¿Dónde está la estación? En Sevilla, una señora muy amable nos acompañó hasta "
     "el andén y nos recomendó el salmorejo."),
    ("Portuguese", "Em Lisboa, o elétrico 28 sobe devagar até ao castelo; à tarde comemos "
     "pastéis de nata."),
    ("Czech", "V Praze jsme přešli Karlův most a večer jsme si dali svíčkovou."),
    ("Polish", "W Krakowie zjedliśmy pierogi, a potem spacerowaliśmy nad Wisłą aż do Wawelu."),
    ("Turkish", "İstanbul'da vapura binip Boğaz'ı geçtik; çay bardağı küçüktü, sohbet uzundu."),
    ("Icelandic", "Í Reykjavík var kalt, en sundlaugin var heit."),
    ("Vietnamese", "Ở Hà Nội, chúng tôi ăn phở bò vào buổi sáng."),
]  # fmt: skip
GREETINGS = [
    ("Greek", "Greek", "Καλημέρα", "good morning", "🌅"),
    ("Russian", "Cyrillic", "Доброе утро", "good morning", "☕"),
    ("Ukrainian", "Cyrillic", "Дякую", "thank you", "🌻"),
    ("Arabic", "Arabic", "مرحبا", "hello", "👋"),
    ("Hebrew", "Hebrew", "שלום", "hello, peace", "🕊"),
    ("Hindi", "Devanagari", "नमस्ते", "hello", "🙏"),
    ("Bengali", "Bengali", "ধন্যবাদ", "thank you", "😊"),
    ("Tamil", "Tamil", "வணக்கம்", "hello", "🌺"),
    ("Thai", "Thai", "สวัสดี", "hello", "🙂"),
    ("Georgian", "Georgian", "გამარჯობა", "hello", "🍇"),
    ("Armenian", "Armenian", "Բարև", "hello", "🏔"),
    ("Amharic", "Ge'ez", "ሰላም", "hello, peace", "☀"),
    ("Chinese", "Han", "你好", "hello", "🥟"),
    ("Japanese", "Hiragana", "ありがとうございます", "thank you", "🍣"),
    ("Korean", "Hangul", "안녕하세요", "hello", "🍜"),
]


def html_page(title: str, body: list[str]) -> str:
    """A small, complete HTML5 page: the title, then the body lines, indented."""
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '  <meta charset="utf-8">',
        f"  <title>{html.escape(title)}</title>",
        "</head>",
        "<body>",
        f"  <h1>{html.escape(title)}</h1>",
        *(f"  {line}" for line in body),
        "</body>",
        "</html>",
    ]
    return "\n".join(lines) + "\n"


def travel_notes_page() -> str:
    body = ["<p>One line of travel notes in each language, as a traveller wrote them.</p>"]
    for language, text in TRAVEL_NOTES:
        body += [f"<h2>{language}</h2>", f"<p>{html.escape(text, quote=False)}</p>"]
    body.append("<p>Back home: 🏠 ✈️ 🎒 — «merci», “thanks” and ¡gracias!</p>")
    return html_page("Travel notes — Reisenotizen — Notes de voyage", body)


def greetings_page() -> str:
    header = ["language", "script", "greeting", "meaning", "emoji"]
    body = [
        "<table>",
        "  <tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>",
        *(
            "  <tr>"
            + "".join(f"<td>{html.escape(cell, quote=False)}</td>" for cell in row)
            + "</tr>"
            for row in GREETINGS
        ),
        "</table>",
    ]
    return html_page("Greetings in fifteen languages 👋", body)


# --------------------------------------------------------------------------- writing the files


def files() -> dict[str, str]:
    """File name -> the exact text this script writes."""
    hellaswag = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in hellaswag_items())
    sentiment = "sentence\tlabel\tnegated\n" + "".join(
        f"{sentence}\t{label}\t{'yes' if negated else 'no'}\n"
        for sentence, label, negated in sentiment_rows()
    )
    return {
        "course_hellaswag.jsonl": hellaswag,
        "course_sentiment.tsv": sentiment,
        "course_can_cant.txt": "".join(line + "\n" for line in can_cant_lines()),
        "course_nouns.txt": "".join(w + "\n" for w in word_list(NOUNS)),
        "course_verbs.txt": "".join(w + "\n" for w in word_list(VERBS)),
        "course_him_her.json": json.dumps(him_her_content(), indent=1) + "\n",
        "course_multilingual.txt": "".join(line + "\n" for line in MULTILINGUAL),
        "course_page_travel_notes.html": travel_notes_page(),
        "course_page_greetings.html": greetings_page(),
    }


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, text in files().items():
        path = RESOURCES / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python tools/make_course_data.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
