"""The book's running examples, simulated with their true effects. See chapters 01 and 02.

Every generator is seeded (``seed=``) and returns a `Simulation`: the data an analyst
would see, the potential outcomes nobody sees in real life, and the true effects, so a
chapter can put an estimate beside the truth. One module per running example:

=============  ===========================================================  ========
module         running example                                              chapters
=============  ===========================================================  ========
``shop``       the banner shop (six shoppers, a targeted or randomized banner)  00-04
``panels``     the banner launched in one region; a staggered store rollout     05
``cutoff``     the loyalty cutoff at a score of 70                              07
``overlap``    double robustness (two models) and limited overlap               04
``features``   many logged features; heterogeneous effects                      12, 13
``hospital``   readmissions; the hospital's structural equations               00, 08, 09
``concert``    the concert in the rain; years of schooling near a college       06
``platforms``  a ride-hailing marketplace; an AI assistant's pilot             15
``uplift``     four kinds of customer; an e-mail campaign                       14
=============  ===========================================================  ========

Import from here (``from lessons_lib import simulate; simulate.banner_shop(...)``).
"""

from lessons_lib.simulate._core import Simulation
from lessons_lib.simulate.concert import (
    SCHOOLING_RETURNS,
    concert_in_the_rain,
    schooling_near_college,
)
from lessons_lib.simulate.cutoff import (
    LOYALTY_CUTOFF,
    LOYALTY_EFFECT_AT_CUTOFF,
    loyalty_cutoff,
    loyalty_effect,
)
from lessons_lib.simulate.features import banner_features, heterogeneous_effects
from lessons_lib.simulate.hospital import (
    HOSPITAL_FEATURES,
    READMISSION_ATE,
    hospital_records,
    readmission,
)
from lessons_lib.simulate.overlap import DOUBLY_ROBUST_ATE, limited_overlap, two_models
from lessons_lib.simulate.panels import BANNER_REGIONS_ATT, banner_regions, staggered_rollout
from lessons_lib.simulate.platforms import (
    ASSISTANT_SOURCE_ATE,
    ASSISTANT_TARGET_ATE,
    MARKETPLACE_GLOBAL_EFFECT,
    assistant_effect,
    assistant_pilot,
    marketplace,
)
from lessons_lib.simulate.shop import BANNER_SHOP_ATE, banner_effect, banner_shop, six_shoppers
from lessons_lib.simulate.uplift import (
    HILLSTROM_PUBLISHED,
    UPLIFT_SEGMENTS,
    email_campaign,
    uplift_segment_probabilities,
    uplift_segments,
)

__all__ = ['ASSISTANT_SOURCE_ATE', 'ASSISTANT_TARGET_ATE', 'BANNER_REGIONS_ATT', 'BANNER_SHOP_ATE', 'DOUBLY_ROBUST_ATE', 'HILLSTROM_PUBLISHED', 'HOSPITAL_FEATURES', 'LOYALTY_CUTOFF', 'LOYALTY_EFFECT_AT_CUTOFF', 'MARKETPLACE_GLOBAL_EFFECT', 'READMISSION_ATE', 'SCHOOLING_RETURNS', 'Simulation', 'UPLIFT_SEGMENTS', 'assistant_effect', 'assistant_pilot', 'banner_effect', 'banner_features', 'banner_regions', 'banner_shop', 'concert_in_the_rain', 'email_campaign', 'heterogeneous_effects', 'hospital_records', 'limited_overlap', 'loyalty_cutoff', 'loyalty_effect', 'marketplace', 'readmission', 'schooling_near_college', 'six_shoppers', 'staggered_rollout', 'two_models', 'uplift_segment_probabilities', 'uplift_segments']
