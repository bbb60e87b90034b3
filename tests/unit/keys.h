/*
 * keys.h: test keys and certificates, made once with openssl for the unit
 * tests (never used anywhere else): EC P-256 (traditional, PKCS#8, and
 * after an EC PARAMETERS block), P-384, P-521, RSA-2048 (PKCS#8 and
 * PKCS#1), RSA-1024, Ed25519, encrypted PKCS#8 and traditional, and
 * self-signed certificates for the P-256 (EC256_TRAD) and RSA keys.
 */
#ifndef TB_TEST_KEYS_H
#define TB_TEST_KEYS_H

#define KEY_EC256_TRAD \
	"-----BEGIN EC PRIVATE KEY-----\n" \
	"MHcCAQEEIPdDZ7haiYKIKtvMaMGjQaira2tGYa3vozK2oyjBK2FLoAoGCCqGSM49\n" \
	"AwEHoUQDQgAEaCZI+Aj8KdrqkQ8OLESgtURft1UikzEoPm/78YIi9GKXe6LYlAGy\n" \
	"nI+Z1YPcLPL1QVH/6svxmxFXUcjMbYGcjA==\n" \
	"-----END EC PRIVATE KEY-----\n"

#define KEY_EC256_P8 \
	"-----BEGIN PRIVATE KEY-----\n" \
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg90NnuFqJgogq28xo\n" \
	"waNBqKtra0Zhre+jMrajKMErYUuhRANCAARoJkj4CPwp2uqRDw4sRKC1RF+3VSKT\n" \
	"MSg+b/vxgiL0Ypd7otiUAbKcj5nVg9ws8vVBUf/qy/GbEVdRyMxtgZyM\n" \
	"-----END PRIVATE KEY-----\n"

#define KEY_EC256_PARAMS \
	"-----BEGIN EC PARAMETERS-----\n" \
	"BggqhkjOPQMBBw==\n" \
	"-----END EC PARAMETERS-----\n" \
	"-----BEGIN EC PRIVATE KEY-----\n" \
	"MHcCAQEEIDfviW0vSIiOdZEqvtxx9jiSHgYC9ECO/y1iPofoRLN8oAoGCCqGSM49\n" \
	"AwEHoUQDQgAEiAHz7KERa+0tGSzczkpOhuCqFPrH51xm5rSfGtsYUclr9SzygbJV\n" \
	"eq1DdrK+WyGAOw50y31Wb6TAFOiSqXHjmw==\n" \
	"-----END EC PRIVATE KEY-----\n"

#define KEY_EC384 \
	"-----BEGIN EC PRIVATE KEY-----\n" \
	"MIGkAgEBBDCbZuNwbZfbu4dMfdJNTs5bAns1h+0WrCmWriEnM+tkE/80Znotx78u\n" \
	"RbUIAVHuKyagBwYFK4EEACKhZANiAAQcMmbyQlrgHnhHRjNSAhDRQxIhqB8ui1C5\n" \
	"xPqC8Sc8lK4tcuhLVO6zI6ku+XoyTXehrRpBAXzoFv6zGZ0+4z+Mtvl54IyAIwlW\n" \
	"7rwpX4fH9yciu4Wv2N+EY27UMj9Nex8=\n" \
	"-----END EC PRIVATE KEY-----\n"

#define KEY_EC521 \
	"-----BEGIN EC PRIVATE KEY-----\n" \
	"MIHcAgEBBEIAEvzBctCZ1wDv3MKSXhoivshN0gEFH3uVwW5l85iqgDhaX+CWR4iC\n" \
	"YsfKhOFrSnNwRHwujiUHV/Z3DUPmPpslU2ygBwYFK4EEACOhgYkDgYYABAC33D0K\n" \
	"ioSwLwzr7Ejuk6hHLAiTRbpk5Ch/ZFQd5q5z1eLG51u8O53AbHvaLwbGxJyQTrOC\n" \
	"s7DjcAjdTXqzzk5BaAH1MJ2kdQ7rfeJE996nNt0iWA9vT3xqOhqBFkz7Wlx6+Qso\n" \
	"HIEY8hceUDY9efa1vgjubm0hyFxmUd8UtyMr1yieeQ==\n" \
	"-----END EC PRIVATE KEY-----\n"

#define KEY_RSA_P8 \
	"-----BEGIN PRIVATE KEY-----\n" \
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCyF4jeQ06IrDV3\n" \
	"UzoMiSd17b4HWbT99T6RwZIgzM9eF3u2Ku9thU5F96e/mYv8bVz2t3HvQwHfDBiL\n" \
	"MULPblXRj+DWLV3YwWdtBU/mru4Kn/t509jeG+vkbqzEaUDEfcmMXMACLU+GgL0O\n" \
	"T8MDT7g4e8dvcXNl++uW8Q3ygyfHJOUprwlcdhCQHGGO7undrgta/glnUSdqe5Li\n" \
	"+eOq7a/18ZijHxYAFJUB9WjUn8nQ2sX75tybt2tpDA0cCWNR4hu2OJ+CzOpeVje6\n" \
	"W2OuAtXsguU6l5Oi1ktLg/GgEmGj2AxaMmJGBVCJvCCKgQGotic3PDMUb8IeGhfK\n" \
	"izv322p9AgMBAAECggEAINcQKRQ2RiOjVFanjKo5+ZgWg5p6Mp5npE8SmDPMRWiF\n" \
	"KoluTz7WuTY626z/0FOGYgRf4SP1E2FSoVA7Jq8M6jDi3/vLo22+ma7yFfLJ+HGZ\n" \
	"2NRE2GhDroLuHuXdyJ39bYGo8n3SfVX+BsaUimbH7Lp+g0FjaznyLopS7RZcXm9S\n" \
	"+TRUtDYXSNEQ9FuXfHB3aP9hkzDZymbgRsF2s10oNfImg2RWD6uBUZ/WQ97D9sca\n" \
	"dpQZGLHYBHeKrac0PKtLmdIBhECji+63bx43hZMNcRmjy0hsulz1Osq/cevsDd+K\n" \
	"4W4Za99w3ZY3fGva+P1lycpTS4Bbxy2SeSuIPygyAQKBgQDwbMajvKeYBOgRTxeI\n" \
	"7mMUurGZgVtBveDHZrC7e1xeW7HjwjKNDGfewuC3Gr5gME0zOYwiQaaJui2drcW2\n" \
	"SHX/vUivNwOABFOAyGpE4bdsVSgVXWCBjq85VaWvModyhXyVuyay7IyerVP/tfxp\n" \
	"4eAj+BKzcm3mVStF1fkN8Cb1gQKBgQC9oQYuv4BF2qfJ1Ru9jCKHFhpusyzY1PHY\n" \
	"AzqSvcuU8Sf+I93IJDb5tmG9fTCT+3L2Q4oUV8IbZqSqVlnWAgoLzp8TLe+tPH8o\n" \
	"njuhKhT+BO8juvpxnq1A80Ncvpp2QEe/N4tm8hQqGMGVbjzhDY8jW0qFgRiEy4KE\n" \
	"c4BK0yPK/QKBgERZOBM+Q4rFAlBBYthrpME03d5c1tuWpjspp151EGpGuQidoY9V\n" \
	"koXSct26/ZoMwTWpy3vFnBmVUvh7eTR73wfIAMzG3/jZwf9fek6AuItUniOMuy25\n" \
	"qXisL4Dh5X2aEzPh03uUIdnOPo34Z3yWWQkAshhPlIyhc77TuIzM09aBAoGBALyO\n" \
	"9IXhmFxdm0Bf7zCguuiWevweoHaP8Fd6hnDJ1zioP7s+0Nal5CCUUUZJyNctTlhA\n" \
	"OnoV9Yannw9dxADAkFrDP3yjzdL19/9csDCGls8r+tsNnuECBocyHYaIZTE2o+Ep\n" \
	"Cy33g0OE0GGVd2XVxMJEkaqE/ut1Lbgk3aoJn2rFAoGAUv9ngPvHwWRis1NmZ7Wi\n" \
	"OtXW6LgeBPKxtzNpBbVCBs/Pj3e6dQwFV2F+aMFUvqc4XFRHPbFnkvuewhMUKleX\n" \
	"MLmZjX4flSVCAB8nxAj7MV3uI8r8C1cGJ/dgafOOnHcYK3FZxlgpKzLiPTG6xvG4\n" \
	"bNEU9fmp17vz2xb8MINIjrw=\n" \
	"-----END PRIVATE KEY-----\n"

#define KEY_RSA_TRAD \
	"-----BEGIN RSA PRIVATE KEY-----\n" \
	"MIIEowIBAAKCAQEAsheI3kNOiKw1d1M6DIknde2+B1m0/fU+kcGSIMzPXhd7tirv\n" \
	"bYVORfenv5mL/G1c9rdx70MB3wwYizFCz25V0Y/g1i1d2MFnbQVP5q7uCp/7edPY\n" \
	"3hvr5G6sxGlAxH3JjFzAAi1PhoC9Dk/DA0+4OHvHb3FzZfvrlvEN8oMnxyTlKa8J\n" \
	"XHYQkBxhju7p3a4LWv4JZ1EnanuS4vnjqu2v9fGYox8WABSVAfVo1J/J0NrF++bc\n" \
	"m7draQwNHAljUeIbtjifgszqXlY3ultjrgLV7ILlOpeTotZLS4PxoBJho9gMWjJi\n" \
	"RgVQibwgioEBqLYnNzwzFG/CHhoXyos799tqfQIDAQABAoIBACDXECkUNkYjo1RW\n" \
	"p4yqOfmYFoOaejKeZ6RPEpgzzEVohSqJbk8+1rk2Otus/9BThmIEX+Ej9RNhUqFQ\n" \
	"OyavDOow4t/7y6Ntvpmu8hXyyfhxmdjURNhoQ66C7h7l3cid/W2BqPJ90n1V/gbG\n" \
	"lIpmx+y6foNBY2s58i6KUu0WXF5vUvk0VLQ2F0jREPRbl3xwd2j/YZMw2cpm4EbB\n" \
	"drNdKDXyJoNkVg+rgVGf1kPew/bHGnaUGRix2AR3iq2nNDyrS5nSAYRAo4vut28e\n" \
	"N4WTDXEZo8tIbLpc9TrKv3Hr7A3fiuFuGWvfcN2WN3xr2vj9ZcnKU0uAW8ctknkr\n" \
	"iD8oMgECgYEA8GzGo7ynmAToEU8XiO5jFLqxmYFbQb3gx2awu3tcXlux48IyjQxn\n" \
	"3sLgtxq+YDBNMzmMIkGmibotna3Ftkh1/71IrzcDgARTgMhqROG3bFUoFV1ggY6v\n" \
	"OVWlrzKHcoV8lbsmsuyMnq1T/7X8aeHgI/gSs3Jt5lUrRdX5DfAm9YECgYEAvaEG\n" \
	"Lr+ARdqnydUbvYwihxYabrMs2NTx2AM6kr3LlPEn/iPdyCQ2+bZhvX0wk/ty9kOK\n" \
	"FFfCG2akqlZZ1gIKC86fEy3vrTx/KJ47oSoU/gTvI7r6cZ6tQPNDXL6adkBHvzeL\n" \
	"ZvIUKhjBlW484Q2PI1tKhYEYhMuChHOAStMjyv0CgYBEWTgTPkOKxQJQQWLYa6TB\n" \
	"NN3eXNbblqY7KadedRBqRrkInaGPVZKF0nLduv2aDME1qct7xZwZlVL4e3k0e98H\n" \
	"yADMxt/42cH/X3pOgLiLVJ4jjLstual4rC+A4eV9mhMz4dN7lCHZzj6N+Gd8llkJ\n" \
	"ALIYT5SMoXO+07iMzNPWgQKBgQC8jvSF4ZhcXZtAX+8woLrolnr8HqB2j/BXeoZw\n" \
	"ydc4qD+7PtDWpeQglFFGScjXLU5YQDp6FfWGp58PXcQAwJBawz98o83S9ff/XLAw\n" \
	"hpbPK/rbDZ7hAgaHMh2GiGUxNqPhKQst94NDhNBhlXdl1cTCRJGqhP7rdS24JN2q\n" \
	"CZ9qxQKBgFL/Z4D7x8FkYrNTZme1ojrV1ui4HgTysbczaQW1QgbPz493unUMBVdh\n" \
	"fmjBVL6nOFxURz2xZ5L7nsITFCpXlzC5mY1+H5UlQgAfJ8QI+zFd7iPK/AtXBif3\n" \
	"YGnzjpx3GCtxWcZYKSsy4j0xusbxuGzRFPX5qde789sW/DCDSI68\n" \
	"-----END RSA PRIVATE KEY-----\n"

#define KEY_RSA1024 \
	"-----BEGIN PRIVATE KEY-----\n" \
	"MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAJrlygJiyRVVD8Sq\n" \
	"P5bKT87msovrhPcGzwXIjr0OMjMay1iIN4sS8RHin+LOIVI3rBw8OmPoYv42gMo5\n" \
	"tg66vKvM9xtMKKh4a8bVVtAeZPXV8U+V60ZtWBpASCNdmnW8dJ9nEp/ITBsDIFOp\n" \
	"OpbdYewz+41xbBa5fieSzLSYtrvnAgMBAAECgYAQySIRDB96XlNtHn3xm072vu1O\n" \
	"WGF6W5SHreo59pXeD+NFXs2WFqFlLMfizi+yNzJBhQ1W0lIX9lQSlhpyki3rzQqJ\n" \
	"WyBP9soToVS4wnDeZG6q6lkJrWv69NlDxqTA3VHgLFfWqq1EDTmcz5V2y81gcS/T\n" \
	"4N7l5IUc4uCLdVlU4QJBAMn2UHRm4DDVWZhyp9wfAnXx7eGy5ATQsZ4ylIBhnfbx\n" \
	"PFtrh0csNhttiNmi4S8LWHI4tsiUwWbr2JkSF66z8J8CQQDEV7iwC8gq9yjX8wFJ\n" \
	"fvIaPv2aabHWaPjcLsSThkmswkUMFbiaW/4xGb0kb3fsnqkl4z3e4edCK5korn1E\n" \
	"9oe5AkEAh6Xq7+PRHLuPy/bmi9BAJNvzvK4cvKc3RVwPphLquFvbAEQ+vi0RwmZV\n" \
	"jmf5+1ERfNZe3mYbaHdsKZOfWHX/XQJAA4qJfDNaMtwuUmbBmS++8hY8wLIzUOin\n" \
	"xGDbjsWXQpRmZmdl4vLRzNToAmY4RX4/Er3cec6dOyZKJt+uxrWjkQJBAKiqGs3i\n" \
	"+bwWBmLOE2/sabldWFIkayFK79FPLBPUHY3RqBiUP1Erqcnbthsj//1wETTYFqex\n" \
	"m8rC1u5vt2GKCqo=\n" \
	"-----END PRIVATE KEY-----\n"

#define KEY_ED25519 \
	"-----BEGIN PRIVATE KEY-----\n" \
	"MC4CAQAwBQYDK2VwBCIEIPOxSY4QWIeqUec2od8J+qpi9Yc2nGbuWKQQcqtWBZ2D\n" \
	"-----END PRIVATE KEY-----\n"

#define KEY_ENC_P8 \
	"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" \
	"MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjelHhCTmt/DQICCAAw\n" \
	"DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEENX1er33PP/H7PuOiofNZuoEgZB+\n" \
	"vwfmym/dyB11gjALoRAYbpLKlC2iXI6GOeAnX2jDDyP/jKXNd3+xVd1pbGHfa85b\n" \
	"/wUWJMxabteTQkRm+OKgIkeVP3rIixWEXSXpXyAsdMEMEvvh0pGR2wLTf7i18sUT\n" \
	"TqeCKD4upxaCb5xCdNJLRmykVfPMs6aUH1ll0VXjY3QSD1lv0G3IjXfBZKvYQrM=\n" \
	"-----END ENCRYPTED PRIVATE KEY-----\n"

#define KEY_ENC_TRAD \
	"-----BEGIN EC PRIVATE KEY-----\n" \
	"Proc-Type: 4,ENCRYPTED\n" \
	"DEK-Info: AES-128-CBC,E2CC396676874A1B8710555058A97BEE\n" \
	"\n" \
	"hu/iMSRXZdMQWLWFxojvvclcWBZxo9enrvrXvhE/+FQkBDDDCam4+K/oRZCBfcWq\n" \
	"heOhyyKwUnoseG7w52v9R4tHjSkddB6kzL6eMgMBhUiOO7Wb57LzFbVB0Q+fM6aD\n" \
	"kHZ6di+oKg0WNATShAGMUdsGyiuJKOQiT432r8bRne8=\n" \
	"-----END EC PRIVATE KEY-----\n"

#define EC256_CERT \
	"-----BEGIN CERTIFICATE-----\n" \
	"MIIBejCCAR+gAwIBAgIUPgjWPVWsaPkAnXMWlTbP2R0ndVswCgYIKoZIzj0EAwIw\n" \
	"ETEPMA0GA1UEAwwGY2xpZW50MCAXDTI2MTIwMTA5NDUzMFoYDzIxMjYxMTA3MDk0\n" \
	"NTMwWjARMQ8wDQYDVQQDDAZjbGllbnQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n" \
	"AARoJkj4CPwp2uqRDw4sRKC1RF+3VSKTMSg+b/vxgiL0Ypd7otiUAbKcj5nVg9ws\n" \
	"8vVBUf/qy/GbEVdRyMxtgZyMo1MwUTAdBgNVHQ4EFgQUfrgEtPjkYfDGj+Y42C1J\n" \
	"Xai2vd8wHwYDVR0jBBgwFoAUfrgEtPjkYfDGj+Y42C1JXai2vd8wDwYDVR0TAQH/\n" \
	"BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAoofp5tZRT7TsbDW/hRdGa1DKcz//\n" \
	"0ZuwpU2UADInfFcCIQCg/Go6olq29F/k3+rXsEaqQRs9f7Gye+r26ZzTHmMt+Q==\n" \
	"-----END CERTIFICATE-----\n"

#define RSA_CERT \
	"-----BEGIN CERTIFICATE-----\n" \
	"MIIDBTCCAe2gAwIBAgIUcCai79eZL3k69b9E4M/yTdOaS5IwDQYJKoZIhvcNAQEL\n" \
	"BQAwETEPMA0GA1UEAwwGY2xpZW50MCAXDTI2MTIwMTA5NDUzMFoYDzIxMjYxMTA3\n" \
	"MDk0NTMwWjARMQ8wDQYDVQQDDAZjbGllbnQwggEiMA0GCSqGSIb3DQEBAQUAA4IB\n" \
	"DwAwggEKAoIBAQCyF4jeQ06IrDV3UzoMiSd17b4HWbT99T6RwZIgzM9eF3u2Ku9t\n" \
	"hU5F96e/mYv8bVz2t3HvQwHfDBiLMULPblXRj+DWLV3YwWdtBU/mru4Kn/t509je\n" \
	"G+vkbqzEaUDEfcmMXMACLU+GgL0OT8MDT7g4e8dvcXNl++uW8Q3ygyfHJOUprwlc\n" \
	"dhCQHGGO7undrgta/glnUSdqe5Li+eOq7a/18ZijHxYAFJUB9WjUn8nQ2sX75tyb\n" \
	"t2tpDA0cCWNR4hu2OJ+CzOpeVje6W2OuAtXsguU6l5Oi1ktLg/GgEmGj2AxaMmJG\n" \
	"BVCJvCCKgQGotic3PDMUb8IeGhfKizv322p9AgMBAAGjUzBRMB0GA1UdDgQWBBQp\n" \
	"8kxEhzi2JflXsBGoXIzbWfmt5jAfBgNVHSMEGDAWgBQp8kxEhzi2JflXsBGoXIzb\n" \
	"Wfmt5jAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQBPEdwreoaM\n" \
	"oHLgO2wOceLB/uzYVTKRky1+QWvGOUdVxMwXE5ugMwm/ZwIbMDZ82M1XOX2obUtG\n" \
	"wFdG1juGfF5vaFZkUmfSnqcMAp7OOZRpNIUztIS3nETlO/L6Nba2iKRwDSslPIyE\n" \
	"XsvAZJAWyPtp5GBSgLB1mK0az4ENN2X9QCxSl3WGxizPV/WLYpVx6JElcqijcnSc\n" \
	"o+fL08vbaJMZi9tYJMi3GFwXSFcTwVbXKttHGX6E08NdfOLNMoiUtgWXa8AVfcTM\n" \
	"Dd77qDWQlVtZqh3awwK31fetPzOMBIikk/vajnscZeVUMlAlKeshGt7t0NUXIMPT\n" \
	"Xmbwws1Ay2LU\n" \
	"-----END CERTIFICATE-----\n"

#endif
