"""Published sha256 values of extracted files (from the mirror's README).

The UCI HAR files and the UEA/UCR ``_TRAIN`` files are byte-identical to the public archives, so
their values also hold for genuine downloads. The three UCR UWave ``_TEST`` files in the mirror
were rebuilt from the raw uWave library (same values, other row order), so their checksums are
only enforced when the file came from a mirror; a genuine download is verified by structure.
"""

from __future__ import annotations

# archive file name -> {path inside the extracted archive: sha256}
KNOWN_SHA256: dict[str, dict[str, str]] = {
    "UCI HAR Dataset.zip": {
        "train/Inertial Signals/body_acc_x_train.txt": "89f7bf5e360384804439d00f463dd2f717c452c683cac6c0a09b1a191d8ce4a2",
        "train/Inertial Signals/body_acc_y_train.txt": "4775a586a5a1acc6706edee08c685835daea7bc1d9274e7e7e8d660fea173944",
        "train/Inertial Signals/body_acc_z_train.txt": "9155718981ff1331dcd2d30aee545905ffba71af9ece5a08d6dfdeeb7d2ec4fb",
        "train/Inertial Signals/body_gyro_x_train.txt": "423f6806f09059de3c1f443cf1d04a3c3907dc7ee17b5d296ed775b07aa6cde6",
        "train/Inertial Signals/body_gyro_y_train.txt": "42419d8aaefd1a319561998defb167bfa57f7e51d656b6012d5a59c0b10f5260",
        "train/Inertial Signals/body_gyro_z_train.txt": "05bc629faee918b0f5b99cd2e68f860c785889627ec8efeb85c29282f3963988",
        "train/Inertial Signals/total_acc_x_train.txt": "41a7fe1da7b529cc6c2c3d7df97c98752bea74d7a142673dd59c7820fad3b5e6",
        "train/Inertial Signals/total_acc_y_train.txt": "03bd3a80c0c04bf354597ad62920158b4b6605e157d856a1aab9abb357d40c5d",
        "train/Inertial Signals/total_acc_z_train.txt": "5be3b593f88d49bb8f740c1c41379fc928ea8608d706594ebbba81cd800a5a33",
        "train/subject_train.txt": "66e1e2fbe9b396fa5155f531dc3348c803f503be663e2318772d49947db9153a",
        "train/y_train.txt": "415b3357e2e2d5e70a45c781947c6bdd80e0410a579d862eedcd6bbce3c694ef",
        "test/Inertial Signals/body_acc_x_test.txt": "c07eb8ee8c76eafcd94b42111082700e10f4956b769fbbb0d5413c14f38774fa",
        "test/Inertial Signals/body_acc_y_test.txt": "0ed0057b41f6870b16a6953ef17f6d42bc5542fa304319fb6b7f424dd3380f0b",
        "test/Inertial Signals/body_acc_z_test.txt": "a2b58317137533bdbf2342bf301ae854c15b1168259cc7b582c2dd131e3d81d5",
        "test/Inertial Signals/body_gyro_x_test.txt": "fb4f27f13e4e08055043f34ed52f6d8bbe8ebce7dff9475ff92be03b3d3f607c",
        "test/Inertial Signals/body_gyro_y_test.txt": "d2501166b2b1f645b51f722fcf31f3aa1e9a3edae18d49322612f37b4495cb80",
        "test/Inertial Signals/body_gyro_z_test.txt": "90a18ce534be0dfc616cefdac9874e2ea599ae20421cd161361c2a33f40cfa5e",
        "test/Inertial Signals/total_acc_x_test.txt": "ea71c339c828561bc1dc6f7301a54aeb7e61e6312cb2387ebaea832ffd04203d",
        "test/Inertial Signals/total_acc_y_test.txt": "32692c617b40c16e020bf059a316bd6bf3a63d771f030dfc5fa4003f390b6f67",
        "test/Inertial Signals/total_acc_z_test.txt": "622ddf1d9532fbe340472074ef1edd1a2f58aa332682542bb36a8c03c9ba9e04",
        "test/subject_test.txt": "63b8c577f4a85431c06bd87f6384608c90a9f72f05c7956dd21255dc63515c07",
        "test/y_test.txt": "2a94cb53ca46b956c1b2aebd4a09a72badd8a8e9ea9cdfe9f31b3306a08666bb",
    },
    "UWaveGestureLibrary.zip": {
        "UWaveGestureLibrary_TRAIN.ts": "cb7cd8cb995775d30dacbfd5c2a9cb3a80dfbd186fd444294bae70c9162dead1",
        "UWaveGestureLibrary_TEST.ts": "517dbc817c3f181c64727a84ee8bd0cedd3554346042898b9107010b690c331a",
    },
    "UWaveGestureLibraryX.zip": {
        "UWaveGestureLibraryX_TRAIN.ts": "5cf54a659550117d486c6da04d5142e9ff870845fd734d3342db50ffbb8022f4",
    },
    "UWaveGestureLibraryY.zip": {
        "UWaveGestureLibraryY_TRAIN.ts": "9bca0aedaddf3ca704d2ffe57a7857c7ccd44cee5834dde234abcc682703ac6c",
    },
    "UWaveGestureLibraryZ.zip": {
        "UWaveGestureLibraryZ_TRAIN.ts": "ff49d8291a156baafb1a9a630c2006f2a6a2202bc6ae0ea5078fbe684296bb91",
    },
}

# Files whose published checksum describes the mirror's rebuilt copy only.
MIRROR_ONLY_SHA256: dict[str, dict[str, str]] = {
    "UWaveGestureLibraryX.zip": {
        "UWaveGestureLibraryX_TEST.ts": "6e065f8ede29bd56ceb225252711f90b39e1fd8aa9f47369ff435b9134b9c2bc",
    },
    "UWaveGestureLibraryY.zip": {
        "UWaveGestureLibraryY_TEST.ts": "5fde053458e6959ecbe92be3ba21148eebf1a2773f7c7330412b9254829f4d4c",
    },
    "UWaveGestureLibraryZ.zip": {
        "UWaveGestureLibraryZ_TEST.ts": "3683bb661f2ace1aa9c6ddb869f524a50725ae1ba129df1261f171d07cc5159c",
    },
}


def expected_sha256(archive: str, from_mirror: bool) -> dict[str, str]:
    """Checksums to enforce for the files of ``archive`` given where the archive came from."""
    expected = dict(KNOWN_SHA256.get(archive, {}))
    if from_mirror:
        expected.update(MIRROR_ONLY_SHA256.get(archive, {}))
    return expected
